//! Result columns (mbql.md §4.2–§4.4): what each column of a stage is, its name and display
//! name, its legacy `field_ref`, and its `data.cols` entry.
use serde_json::{json, Map, Value};

use super::meta::FieldMeta;
use crate::mbql::model::{Binning, FieldId, TableId, TemporalUnit};
use crate::mbql::{Extraction, IntervalUnit};

/// Where a column comes from; decides which keys its `cols` entry has (§4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A field of the metadata, or a column of a source carrying a field's metadata.
    Field,
    /// A column of a saved question, earlier stage or native source, referred to by name.
    SourceColumn,
    Expression,
    Aggregation,
}

/// One column of a stage: available to its clauses, or returned.
#[derive(Debug, Clone, PartialEq)]
pub struct Col {
    pub origin: Origin,
    /// The result name before de-duplication (§4.3).
    pub name: String,
    pub display_name: String,
    pub base_type: String,
    pub effective_type: String,
    pub semantic_type: Option<String>,
    pub id: Option<FieldId>,
    pub table_id: Option<TableId>,
    pub fk_target_field_id: Option<FieldId>,
    pub visibility_type: Option<String>,
    pub description: Option<String>,
    /// From the metadata, or filled from the engine at run time.
    pub database_type: Option<String>,
    pub unit: Option<TemporalUnit>,
    pub binning_info: Option<Value>,
    pub field_ref: Value,
    /// `fields`, `breakout` or `aggregation`.
    pub source: &'static str,
}

impl Col {
    /// A field of the metadata, unbucketed, with `["field", id, null]`.
    pub fn of_field(f: &FieldMeta) -> Col {
        Col {
            origin: Origin::Field,
            name: f.name.clone(),
            display_name: f.display_name.clone(),
            base_type: f.base_type.clone(),
            effective_type: f.effective_type.clone(),
            semantic_type: f.semantic_type.clone(),
            id: Some(f.id),
            table_id: Some(f.table_id),
            fk_target_field_id: f.fk_target_field_id,
            visibility_type: Some(f.visibility_type.clone()),
            description: f.description.clone(),
            database_type: Some(f.database_type.clone()),
            unit: None,
            binning_info: None,
            field_ref: json!(["field", f.id, null]),
            source: "fields",
        }
    }

    /// A column of a source (card, stage, native), as the next stage sees it: same metadata,
    /// referred to by its final `name` (§4.2, §4.4).
    pub fn of_source(c: &Col, name: &str) -> Col {
        let origin = if c.id.is_some() {
            Origin::Field
        } else {
            Origin::SourceColumn
        };
        Col {
            origin,
            name: name.to_string(),
            display_name: c.display_name.clone(),
            base_type: c.base_type.clone(),
            effective_type: c.effective_type.clone(),
            semantic_type: c.semantic_type.clone(),
            id: c.id,
            table_id: c.table_id,
            fk_target_field_id: c.fk_target_field_id,
            visibility_type: c.visibility_type.clone(),
            description: c.description.clone(),
            database_type: c.database_type.clone(),
            unit: None,
            binning_info: None,
            field_ref: json!(["field", name, {"base-type": c.base_type}]),
            source: "fields",
        }
    }

    /// A computed column (expression or aggregation).
    pub fn computed(origin: Origin, name: &str, display_name: &str, base_type: &str) -> Col {
        Col {
            origin,
            name: name.to_string(),
            display_name: display_name.to_string(),
            base_type: base_type.to_string(),
            effective_type: base_type.to_string(),
            semantic_type: None,
            id: None,
            table_id: None,
            fk_target_field_id: None,
            visibility_type: None,
            description: None,
            database_type: None,
            unit: None,
            binning_info: None,
            field_ref: Value::Null,
            source: if origin == Origin::Aggregation {
                "aggregation"
            } else {
                "fields"
            },
        }
    }

    /// The temporal kind of its effective type, else of its base type.
    pub fn temporal_kind(&self) -> Option<crate::mbql::sql::TemporalKind> {
        use crate::mbql::sql::TemporalKind;
        TemporalKind::of_type(&self.effective_type)
            .or_else(|| TemporalKind::of_type(&self.base_type))
    }

    /// Text by its effective or base type (`is-empty` compares with `''`).
    pub fn is_text(&self) -> bool {
        [&self.effective_type, &self.base_type]
            .iter()
            .any(|t| matches!(t.as_str(), "type/Text" | "type/TextLike"))
    }

    /// A number by its effective or base type (binning).
    pub fn is_numeric(&self) -> bool {
        [&self.effective_type, &self.base_type].iter().any(|t| {
            matches!(
                t.as_str(),
                "type/Integer" | "type/BigInteger" | "type/Float" | "type/Decimal" | "type/Number"
            )
        })
    }

    /// Adds an option to a `["field", …, opts]` reference.
    pub fn set_ref_option(&mut self, key: &str, value: Value) {
        if let Some(Value::Array(parts)) = Some(&mut self.field_ref) {
            if parts.len() == 3 && parts[0] == "field" {
                if !parts[2].is_object() {
                    parts[2] = Value::Object(Map::new());
                }
                if let Some(opts) = parts[2].as_object_mut() {
                    opts.insert(key.to_string(), value);
                    reorder_options(opts);
                }
            }
        }
    }

    /// The `cols` entry (§4.2) under the de-duplicated `name`.
    pub fn to_json(&self, name: &str) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("name".into(), json!(name));
        m.insert("display_name".into(), json!(self.display_name));
        m.insert("source".into(), json!(self.source));
        m.insert("field_ref".into(), self.field_ref.clone());
        match self.origin {
            Origin::Field | Origin::SourceColumn => {
                m.insert("id".into(), json!(self.id));
                if self.table_id.is_some() || self.origin == Origin::Field {
                    m.insert("table_id".into(), json!(self.table_id));
                }
            }
            Origin::Expression | Origin::Aggregation => {}
        }
        m.insert("base_type".into(), json!(self.base_type));
        m.insert("effective_type".into(), json!(self.effective_type));
        m.insert("semantic_type".into(), json!(self.semantic_type));
        m.insert("database_type".into(), json!(self.database_type));
        if let Some(u) = self.unit {
            m.insert("unit".into(), json!(u.as_str()));
        }
        if let Some(b) = &self.binning_info {
            m.insert("binning_info".into(), b.clone());
        }
        if matches!(self.origin, Origin::Field | Origin::SourceColumn) {
            m.insert("fk_target_field_id".into(), json!(self.fk_target_field_id));
            m.insert("visibility_type".into(), json!(self.visibility_type));
            m.insert("description".into(), json!(self.description));
            for key in [
                "fingerprint",
                "coercion_strategy",
                "settings",
                "nfc_path",
                "parent_id",
            ] {
                m.insert(key.into(), Value::Null);
            }
        }
        m
    }
}

/// Option keys in the order of §4.4: `base-type`, `temporal-unit`, `binning`, `join-alias`,
/// `source-field`.
fn reorder_options(opts: &mut Map<String, Value>) {
    const ORDER: [&str; 5] = [
        "base-type",
        "temporal-unit",
        "binning",
        "join-alias",
        "source-field",
    ];
    let mut sorted = Map::new();
    for key in ORDER {
        if let Some(v) = opts.remove(key) {
            sorted.insert(key.to_string(), v);
        }
    }
    sorted.append(opts);
    *opts = sorted;
}

/// The unit as display names write it (§4.3): `Month`, `Day of week`.
pub fn unit_display(unit: TemporalUnit) -> &'static str {
    match unit {
        TemporalUnit::Default => "Default",
        TemporalUnit::Truncate(u) => match u {
            IntervalUnit::Millisecond => "Millisecond",
            IntervalUnit::Second => "Second",
            IntervalUnit::Minute => "Minute",
            IntervalUnit::Hour => "Hour",
            IntervalUnit::Day => "Day",
            IntervalUnit::Week => "Week",
            IntervalUnit::Month => "Month",
            IntervalUnit::Quarter => "Quarter",
            IntervalUnit::Year => "Year",
        },
        TemporalUnit::Extract(e) => match e {
            Extraction::SecondOfMinute => "Second of minute",
            Extraction::MinuteOfHour => "Minute of hour",
            Extraction::HourOfDay => "Hour of day",
            Extraction::DayOfWeek => "Day of week",
            Extraction::DayOfWeekIso => "Day of week (ISO)",
            Extraction::DayOfMonth => "Day of month",
            Extraction::DayOfYear => "Day of year",
            Extraction::WeekOfYear => "Week of year",
            Extraction::WeekOfYearIso => "Week of year (ISO)",
            Extraction::WeekOfYearUs => "Week of year (US)",
            Extraction::WeekOfYearInstance => "Week of year",
            Extraction::MonthOfYear => "Month of year",
            Extraction::QuarterOfYear => "Quarter of year",
            Extraction::YearOfEra => "Year of era",
        },
    }
}

/// The suffix of a binned column's display name (§4.3).
pub fn binning_display(binning: &Binning, coordinate: bool) -> String {
    match binning {
        Binning::NumBins(1) => "1 bin".into(),
        Binning::NumBins(n) => format!("{n} bins"),
        Binning::BinWidth(w) => {
            let mut s = shortest(*w);
            if coordinate {
                s.push('°');
            }
            s
        }
        Binning::Default => "Auto binned".into(),
    }
}

/// The shortest decimal form of a number: `25`, `0.5`, `10`.
pub fn shortest(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// The binning object as a `field_ref` carries it.
pub fn binning_json(binning: &Binning) -> Value {
    match binning {
        Binning::NumBins(n) => json!({"strategy": "num-bins", "num-bins": n}),
        Binning::BinWidth(w) => json!({"strategy": "bin-width", "bin-width": w}),
        Binning::Default => json!({"strategy": "default"}),
    }
}

/// `Product ID` → `Product` (§4.3: the fk's display name without a trailing ` ID`).
pub fn fk_display(display_name: &str) -> &str {
    display_name
        .strip_suffix(" ID")
        .or_else(|| display_name.strip_suffix(" Id"))
        .filter(|s| !s.is_empty())
        .unwrap_or(display_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_pieces() {
        assert_eq!(fk_display("Product ID"), "Product");
        assert_eq!(fk_display("User ID"), "User");
        assert_eq!(fk_display("ID"), "ID");
        assert_eq!(shortest(25.0), "25");
        assert_eq!(shortest(0.5), "0.5");
        assert_eq!(binning_display(&Binning::NumBins(1), false), "1 bin");
        assert_eq!(binning_display(&Binning::NumBins(10), false), "10 bins");
        assert_eq!(binning_display(&Binning::BinWidth(10.0), true), "10°");
        assert_eq!(
            unit_display(TemporalUnit::Extract(Extraction::DayOfWeek)),
            "Day of week"
        );
    }

    #[test]
    fn ref_options_keep_the_spec_order() {
        let mut c = Col::computed(Origin::Field, "x", "X", "type/Integer");
        c.field_ref = json!(["field", 3, null]);
        c.set_ref_option("source-field", json!(1));
        c.set_ref_option("temporal-unit", json!("month"));
        assert_eq!(
            serde_json::to_string(&c.field_ref).unwrap(),
            r#"["field",3,{"temporal-unit":"month","source-field":1}]"#
        );
    }
}
