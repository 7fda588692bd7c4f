//! How a running query's rows become bytes (queries.md §4.4, §6.2–§6.5): the JSON result of a
//! run and the CSV and JSON downloads. Each format writes its head, its rows batch by batch and
//! its tail into a buffer; [`super::stream`] drives them and the HTTP layer sends the bytes.
use serde_json::{json, Map, Value};

use super::service::Plan;
use crate::warehouse::cell::{
    cols_json, unique_names, write_csv_field, write_json_string, Cell, Column,
};
use crate::warehouse::error::{QueryError, RunContext};

/// How rows become bytes.
pub trait Format: Send + 'static {
    fn start(&mut self, columns: &[Column], out: &mut Vec<u8>);
    fn rows(&mut self, rows: &[Vec<Cell>], out: &mut Vec<u8>);
    fn done(&mut self, columns: &[Column], truncated: bool, out: &mut Vec<u8>);
    /// Writes the failure, or answers `false` to abort the response.
    fn failed(&mut self, e: &QueryError, columns: &[Column], out: &mut Vec<u8>) -> bool;
}

/// The `cols` of a result: the engine's columns (native SQL), or the compiler's (MBQL) with
/// what they leave `null` filled from the engine.
fn result_cols(planned: &Option<Vec<Map<String, Value>>>, columns: &[Column]) -> Value {
    let Some(planned) = planned else {
        return cols_json(columns);
    };
    let cols = planned.iter().enumerate().map(|(i, c)| {
        let mut c = c.clone();
        if let (Some(Value::Null), Some(engine)) = (c.get("database_type"), columns.get(i)) {
            c.insert("database_type".into(), json!(engine.database_type));
        }
        Value::Object(c)
    });
    Value::Array(cols.collect())
}

/// The JSON query result of §4.4, streamed.
pub struct ResultJson {
    ctx: RunContext,
    native_form: Value,
    timezone: String,
    cap: usize,
    count: usize,
    cols: Option<Vec<Map<String, Value>>>,
}

impl ResultJson {
    pub fn new(plan: Plan) -> ResultJson {
        ResultJson {
            ctx: plan.ctx,
            native_form: plan.native_form,
            timezone: plan.results_timezone,
            cap: plan.exec.cap,
            count: 0,
            cols: plan.cols,
        }
    }

    fn tail(&self, columns: &[Column], truncated: bool, out: &mut Vec<u8>) {
        let cols = result_cols(&self.cols, columns);
        let mut data_tail = json!({
            "cols": cols,
            "native_form": self.native_form,
            "results_timezone": self.timezone,
            "results_metadata": {"columns": cols},
            "insights": null,
        });
        if truncated {
            data_tail["rows_truncated"] = json!(self.cap);
        }
        out.extend_from_slice(b"],");
        append_members(&data_tail, out);
        out.extend_from_slice(b"},");
    }
}

/// Appends the members of a JSON object without its braces.
fn append_members(v: &Value, out: &mut Vec<u8>) {
    if let Ok(s) = serde_json::to_vec(v) {
        if s.len() >= 2 {
            out.extend_from_slice(&s[1..s.len() - 1]);
        }
    }
}

impl Format for ResultJson {
    fn start(&mut self, _: &[Column], out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"data\":{\"rows\":[");
    }

    fn rows(&mut self, rows: &[Vec<Cell>], out: &mut Vec<u8>) {
        for row in rows {
            if self.count > 0 {
                out.push(b',');
            }
            self.count += 1;
            out.push(b'[');
            for (i, c) in row.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                c.write_json(out);
            }
            out.push(b']');
        }
    }

    fn done(&mut self, columns: &[Column], truncated: bool, out: &mut Vec<u8>) {
        self.tail(columns, truncated, out);
        let rest = json!({
            "row_count": self.count,
            "status": "completed",
            "context": self.ctx.context,
            "database_id": self.ctx.database_id,
            "json_query": self.ctx.json_query,
            "started_at": self.ctx.started_at.to_rfc3339(),
            "running_time": self.ctx.running_time_ms(),
            "average_execution_time": null,
            "cached": null,
        });
        append_members(&rest, out);
        out.push(b'}');
    }

    fn failed(&mut self, e: &QueryError, columns: &[Column], out: &mut Vec<u8>) -> bool {
        self.tail(columns, false, out);
        let rest = json!({
            "row_count": self.count,
            "status": "failed",
            "error": e.message,
            "error_type": e.error_type.as_str(),
            "class": e.class.as_str(),
            "state": e.state,
            "context": self.ctx.context,
            "database_id": self.ctx.database_id,
            "json_query": self.ctx.json_query,
            "started_at": self.ctx.started_at.to_rfc3339(),
            "running_time": self.ctx.running_time_ms(),
            "stacktrace": [],
            "via": [],
        });
        append_members(&rest, out);
        out.push(b'}');
        true
    }
}

/// Export formats (§6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

impl ExportFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Json => "application/json; charset=utf-8",
        }
    }

    /// The file name extension of the attachment.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
        }
    }
}

/// `Content-Disposition` of a download: named after the time the query started.
pub fn disposition(plan: &Plan, format: ExportFormat) -> String {
    let requested = chrono::DateTime::from_timestamp_micros(plan.ctx.started_at.micros())
        .unwrap_or_else(chrono::Utc::now);
    let stamp = requested.format("%Y-%m-%dT%H%M%SZ");
    format!(
        "attachment; filename=\"query_result_{stamp}.{}\"",
        format.extension()
    )
}

/// Options of a download.
pub struct ExportOptions {
    pub format: ExportFormat,
    pub format_rows: bool,
    pub bom: bool,
}

/// Column titles for an export (§6.5): display names, or `column_title` from
/// `column_settings` when `format_rows` is on; made unique like `cols` names. `planned` are
/// an MBQL query's `(name, display name)` pairs (mbql.md §7.3); a native column's name is its
/// display name.
fn titles(
    columns: &[Column],
    planned: &Option<Vec<(String, String)>>,
    settings: &Value,
    format_rows: bool,
) -> Vec<String> {
    let pairs: Vec<(String, String)> = match planned {
        Some(p) => p.clone(),
        None => columns
            .iter()
            .map(|c| (c.name.clone(), c.name.clone()))
            .collect(),
    };
    let raw: Vec<String> = pairs
        .into_iter()
        .map(|(name, display)| {
            let custom = format_rows
                .then(|| {
                    let key = json!(["name", name]).to_string();
                    settings
                        .get("column_settings")
                        .and_then(|s| s.get(&key))
                        .and_then(|s| s.get("column_title"))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .flatten();
            custom.unwrap_or(display)
        })
        .collect();
    unique_names(raw.iter().map(String::as_str))
}

/// `(name, display_name)` of planned MBQL columns.
fn planned_titles(cols: &Option<Vec<Map<String, Value>>>) -> Option<Vec<(String, String)>> {
    let text = |c: &Map<String, Value>, k: &str| {
        c.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    cols.as_ref().map(|cols| {
        cols.iter()
            .map(|c| (text(c, "name"), text(c, "display_name")))
            .collect()
    })
}

/// What both download formats need to title their columns.
pub struct Titles {
    planned: Option<Vec<(String, String)>>,
    settings: Value,
    format_rows: bool,
}

impl Titles {
    fn of(&self, columns: &[Column]) -> Vec<String> {
        titles(columns, &self.planned, &self.settings, self.format_rows)
    }
}

/// A download (§6.2): CSV or an array of JSON objects. A failure after the first byte aborts it.
pub enum Download {
    Csv {
        titles: Titles,
        bom: bool,
    },
    Json {
        titles: Titles,
        keys: Vec<Vec<u8>>,
        count: usize,
    },
}

impl Download {
    pub fn new(plan: &Plan, opts: &ExportOptions) -> Download {
        let titles = Titles {
            planned: planned_titles(&plan.cols),
            settings: plan.visualization_settings.clone(),
            format_rows: opts.format_rows,
        };
        match opts.format {
            ExportFormat::Csv => Download::Csv {
                titles,
                bom: opts.bom,
            },
            ExportFormat::Json => Download::Json {
                titles,
                keys: Vec::new(),
                count: 0,
            },
        }
    }
}

impl Format for Download {
    fn start(&mut self, columns: &[Column], out: &mut Vec<u8>) {
        match self {
            Download::Csv { titles, bom } => {
                if *bom {
                    out.extend_from_slice("\u{feff}".as_bytes());
                }
                for (i, t) in titles.of(columns).iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_csv_field(t, out);
                }
                out.push(b'\n');
            }
            Download::Json { titles, keys, .. } => {
                *keys = titles
                    .of(columns)
                    .iter()
                    .map(|t| {
                        let mut k = Vec::new();
                        write_json_string(t, &mut k);
                        k.push(b':');
                        k
                    })
                    .collect();
                out.push(b'[');
            }
        }
    }

    fn rows(&mut self, rows: &[Vec<Cell>], out: &mut Vec<u8>) {
        match self {
            Download::Csv { .. } => csv_rows(rows, out),
            Download::Json { keys, count, .. } => json_rows(rows, keys, count, out),
        }
    }

    fn done(&mut self, _: &[Column], _: bool, out: &mut Vec<u8>) {
        if let Download::Json { .. } = self {
            out.push(b']');
        }
    }

    fn failed(&mut self, _: &QueryError, _: &[Column], _: &mut Vec<u8>) -> bool {
        false
    }
}

fn csv_rows(rows: &[Vec<Cell>], out: &mut Vec<u8>) {
    for row in rows {
        for (i, c) in row.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            c.write_csv(out);
        }
        out.push(b'\n');
    }
}

/// Rows as objects keyed by the (already encoded) column titles.
fn json_rows(rows: &[Vec<Cell>], keys: &[Vec<u8>], count: &mut usize, out: &mut Vec<u8>) {
    for row in rows {
        if *count > 0 {
            out.push(b',');
        }
        *count += 1;
        out.push(b'{');
        for (i, (c, k)) in row.iter().zip(keys).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(k);
            c.write_json(out);
        }
        out.push(b'}');
    }
}
