//! The dialect contract: what the compiler may ask of an engine (mbql.md §3), and the rules both
//! engines share, written once as provided methods (NULL rules of §2.3/§3.5, `IN` lists,
//! division by `NULLIF`, `concat`, `CASE`, aggregations of §2.5, cumulative windows, the binning
//! bucket of §2.6.3). The engines' own formulas live in `sqlite.rs` (§3.3) and `postgres.rs`
//! (§3.4).
use jiff::civil::Weekday;

use super::fragment::Fragment;
use super::types::{Aggregate, Result, Running, TemporalKind, TextOp};
use crate::mbql::{
    ArithOp, CompareOp, Extraction, IntervalUnit, Literal, MathFn, TemporalLiteral, TextFn,
    TextMatch,
};
use crate::warehouse::bound::Bound;
use crate::warehouse::sqltext::Dialect;

/// One engine's SQL (see the module documentation of [`super`] for why a trait).
pub trait SqlDialect: Send + Sync {
    /// The placeholder style and literal forms of [`Fragment::render`] / [`Fragment::inline`].
    fn engine(&self) -> Dialect;

    /// A table reference: PostgreSQL schema-qualified (`"public"."orders"`), SQLite by name.
    fn table(&self, schema: Option<&str>, name: &str) -> Fragment;

    /// `REAL` / `double precision`: the type of `/` and `share`.
    fn float_type(&self) -> &'static str;

    /// `INTEGER` / `bigint`: the type of counts.
    fn integer_type(&self) -> &'static str;

    /// `TEXT` / `text`.
    fn text_type(&self) -> &'static str;

    // --- temporal (§3.3, §3.4) -----------------------------------------------------------

    /// The start of the bucket of `unit` holding `x`, of the column's own kind (SQLite: text).
    fn truncate(
        &self,
        x: Fragment,
        kind: TemporalKind,
        unit: IntervalUnit,
        start_of_week: Weekday,
    ) -> Result<Fragment>;

    /// An integer part of `x` (§2.6.2); `day-of-week` is 1 on `start_of_week`.
    fn extract(
        &self,
        x: Fragment,
        kind: TemporalKind,
        part: Extraction,
        start_of_week: Weekday,
    ) -> Result<Fragment>;

    /// `datetime-add` (negative amounts subtract), of the column's own kind. The amount is
    /// bound.
    fn datetime_add(
        &self,
        x: Fragment,
        kind: TemporalKind,
        amount: i64,
        unit: IntervalUnit,
    ) -> Result<Fragment>;

    /// The two sides of a comparison between column `x` and a temporal literal (§3.1): the
    /// column as it must be compared (SQLite normalises stored text) and the bound literal
    /// (PostgreSQL casts it to the column's type).
    fn temporal_operands(
        &self,
        x: Fragment,
        kind: TemporalKind,
        value: &TemporalLiteral,
    ) -> Result<(Fragment, Fragment)>;

    /// The current instant (`now`, §2.7).
    fn now(&self) -> Fragment;

    /// The calendar year of `x` as an integer (`get-year`, §2.7).
    fn year(&self, x: Fragment) -> Fragment;

    // --- strings and numbers (§3.5) --------------------------------------------------------

    /// A substring filter on one pattern, which never matches NULL.
    fn text_match(&self, x: Fragment, op: TextOp, pattern: &str, case_sensitive: bool) -> Fragment;

    /// `round` to an integer (half away from zero on both engines).
    fn round(&self, x: Fragment) -> Fragment;

    /// `log`, base 10.
    fn log10(&self, x: Fragment) -> Fragment;

    /// `substring(x, start, length?)`, 1-based.
    fn substring(&self, x: Fragment, start: Fragment, length: Option<Fragment>) -> Fragment;

    /// `stddev`, `var`, `median`, `percentile`: PostgreSQL only.
    fn statistic(&self, aggregate: Aggregate) -> Result<Fragment>;

    // --- provided: the same on both engines ------------------------------------------------

    /// A literal of the query: always bound; `null` is the keyword.
    fn literal(&self, value: &Literal) -> Fragment {
        match value {
            Literal::Null => Fragment::sql("NULL"),
            Literal::Bool(b) => Fragment::param(Bound::Bool(*b)),
            Literal::Int(i) => Fragment::param(Bound::Int(*i)),
            Literal::Float(f) => Fragment::param(Bound::Float(*f)),
            Literal::Text(s) => Fragment::param(Bound::Text(s.clone())),
        }
    }

    /// `x = v`, or `x IN (v, …)` for several values (§2.3).
    fn equal(&self, x: Fragment, mut values: Vec<Fragment>) -> Fragment {
        let mut f = x;
        if values.len() == 1 {
            f.push_sql(" = ").push(values.remove(0));
        } else {
            f.push_sql(" IN (")
                .push(Fragment::join(values, ", "))
                .push_sql(")");
        }
        f
    }

    /// `!=`, NULL included (\[compat\]): `(x <> v OR x IS NULL)`, `(x NOT IN (…) OR x IS NULL)`.
    fn not_equal(&self, x: Fragment, mut values: Vec<Fragment>) -> Fragment {
        let mut f = x.clone();
        if values.len() == 1 {
            f.push_sql(" <> ").push(values.remove(0));
        } else {
            f.push_sql(" NOT IN (")
                .push(Fragment::join(values, ", "))
                .push_sql(")");
        }
        f.push_sql(" OR ").push(self.is_null(x));
        f.parens()
    }

    fn compare(&self, op: CompareOp, left: Fragment, right: Fragment) -> Fragment {
        let mut f = left;
        f.push_sql(match op {
            CompareOp::Lt => " < ",
            CompareOp::Le => " <= ",
            CompareOp::Gt => " > ",
            CompareOp::Ge => " >= ",
        })
        .push(right);
        f
    }

    /// Inclusive range.
    fn between(&self, x: Fragment, low: Fragment, high: Fragment) -> Fragment {
        let mut f = x;
        f.push_sql(" BETWEEN ")
            .push(low)
            .push_sql(" AND ")
            .push(high);
        f
    }

    /// `start <= x < end`: relative windows, `during` and whole-day comparisons (§2.3, §2.4).
    fn half_open(&self, x: Fragment, start: Fragment, end: Fragment) -> Fragment {
        let mut f = x.clone();
        f.push_sql(" >= ")
            .push(start)
            .push_sql(" AND ")
            .push(x)
            .push_sql(" < ")
            .push(end);
        f.parens()
    }

    fn is_null(&self, x: Fragment) -> Fragment {
        let mut f = x;
        f.push_sql(" IS NULL");
        f
    }

    fn not_null(&self, x: Fragment) -> Fragment {
        let mut f = x;
        f.push_sql(" IS NOT NULL");
        f
    }

    /// `is-empty`: NULL or, for text, the empty string.
    fn is_empty(&self, x: Fragment, text: bool) -> Fragment {
        if !text {
            return self.is_null(x);
        }
        let mut f = self.is_null(x.clone());
        f.push_sql(" OR ").push(x).push_sql(" = ''");
        f.parens()
    }

    fn not_empty(&self, x: Fragment, text: bool) -> Fragment {
        if !text {
            return self.not_null(x);
        }
        let mut f = self.not_null(x.clone());
        f.push_sql(" AND ").push(x).push_sql(" <> ''");
        f.parens()
    }

    /// `(a AND b …)`; no part is always true.
    fn and(&self, parts: Vec<Fragment>) -> Fragment {
        if parts.is_empty() {
            return Fragment::sql("(1 = 1)");
        }
        Fragment::join(parts, " AND ").parens()
    }

    /// `(a OR b …)`; no part is never true.
    fn or(&self, parts: Vec<Fragment>) -> Fragment {
        if parts.is_empty() {
            return Fragment::sql("(1 = 0)");
        }
        Fragment::join(parts, " OR ").parens()
    }

    fn not(&self, filter: Fragment) -> Fragment {
        let mut f = Fragment::sql("NOT ");
        f.push(filter.parens());
        f
    }

    /// `(NOT (f) OR x IS NULL)`: `not` of a string filter and `does-not-contain` (§2.3).
    fn not_or_null(&self, filter: Fragment, x: Fragment) -> Fragment {
        let mut f = self.not(filter);
        f.push_sql(" OR ").push(self.is_null(x));
        f.parens()
    }

    /// A string filter of §2.3 with its patterns OR-ed; `does-not-contain` matches none of
    /// them, NULL included.
    fn text_filter(
        &self,
        op: TextMatch,
        x: Fragment,
        patterns: &[String],
        case_sensitive: bool,
    ) -> Fragment {
        let (op, negated) = match op {
            TextMatch::Contains => (TextOp::Contains, false),
            TextMatch::DoesNotContain => (TextOp::Contains, true),
            TextMatch::StartsWith => (TextOp::StartsWith, false),
            TextMatch::EndsWith => (TextOp::EndsWith, false),
        };
        let mut parts: Vec<Fragment> = patterns
            .iter()
            .map(|p| self.text_match(x.clone(), op, p, case_sensitive))
            .collect();
        let any = if parts.len() == 1 {
            parts.remove(0)
        } else {
            self.or(parts)
        };
        if negated {
            self.not_or_null(any, x)
        } else {
            any
        }
    }

    /// `["inside", lat, lon, north, west, south, east]`.
    fn inside(
        &self,
        lat: Fragment,
        lon: Fragment,
        north: Fragment,
        west: Fragment,
        south: Fragment,
        east: Fragment,
    ) -> Fragment {
        self.and(vec![
            self.between(lat, south, north),
            self.between(lon, west, east),
        ])
    }

    // --- expressions (§2.7, §3.5) ----------------------------------------------------------

    /// `+`, `-`, `*` over two or more arguments; `/` as [`SqlDialect::divide`], left to right.
    fn arithmetic(&self, op: ArithOp, args: Vec<Fragment>) -> Fragment {
        let sep = match op {
            ArithOp::Add => " + ",
            ArithOp::Subtract => " - ",
            ArithOp::Multiply => " * ",
            ArithOp::Divide => {
                let mut args = args.into_iter();
                let first = args.next().unwrap_or_else(|| Fragment::sql("NULL"));
                return args.fold(first, |a, b| self.divide(a, b));
            }
        };
        Fragment::join(args, sep).parens()
    }

    /// `CAST(a AS <float>) / NULLIF(b, 0)`: float division, NULL on division by zero.
    fn divide(&self, a: Fragment, b: Fragment) -> Fragment {
        let mut f = self.cast(a, self.float_type());
        f.push_sql(" / ")
            .push(Fragment::call("NULLIF", [b, Fragment::sql("0")]));
        f.parens()
    }

    /// `CAST(x AS <type>)` for one of the dialect's own type names.
    fn cast(&self, x: Fragment, ty: &'static str) -> Fragment {
        let mut f = Fragment::sql("CAST(");
        f.push(x).push_sql(" AS ").push_sql(ty).push_sql(")");
        f
    }

    /// One-argument numeric functions.
    fn math(&self, func: MathFn, x: Fragment) -> Fragment {
        match func {
            MathFn::Abs => Fragment::call("abs", [x]),
            MathFn::Ceil => Fragment::call("ceil", [x]),
            MathFn::Floor => Fragment::call("floor", [x]),
            MathFn::Round => self.round(x),
            MathFn::Sqrt => Fragment::call("sqrt", [x]),
            MathFn::Exp => Fragment::call("exp", [x]),
            MathFn::Log => self.log10(x),
        }
    }

    fn power(&self, base: Fragment, exponent: Fragment) -> Fragment {
        Fragment::call("power", [base, exponent])
    }

    fn coalesce(&self, args: Vec<Fragment>) -> Fragment {
        Fragment::call("COALESCE", args)
    }

    /// `CASE WHEN p THEN v … ELSE d END` (`case` and `if`).
    fn case(&self, branches: Vec<(Fragment, Fragment)>, default: Option<Fragment>) -> Fragment {
        let mut f = Fragment::sql("CASE");
        for (when, then) in branches {
            f.push_sql(" WHEN ")
                .push(when)
                .push_sql(" THEN ")
                .push(then);
        }
        if let Some(d) = default {
            f.push_sql(" ELSE ").push(d);
        }
        f.push_sql(" END");
        f
    }

    /// `concat`: each argument as text, NULL as the empty string (ferrobase rule).
    fn concat(&self, args: Vec<Fragment>) -> Fragment {
        let parts = args.into_iter().map(|a| {
            Fragment::call(
                "COALESCE",
                [self.cast(a, self.text_type()), Fragment::sql("''")],
            )
        });
        Fragment::join(parts, " || ").parens()
    }

    /// `lower`, `upper`, `trim`, `ltrim`, `rtrim`, `length` (characters).
    fn text_fn(&self, func: TextFn, x: Fragment) -> Fragment {
        let name = match func {
            TextFn::Lower => "lower",
            TextFn::Upper => "upper",
            TextFn::Trim => "trim",
            TextFn::Ltrim => "ltrim",
            TextFn::Rtrim => "rtrim",
            TextFn::Length => "length",
        };
        Fragment::call(name, [x])
    }

    fn replace(&self, x: Fragment, find: Fragment, replacement: Fragment) -> Fragment {
        Fragment::call("replace", [x, find, replacement])
    }

    // --- aggregations (§2.5), binning (§2.6.3), paging (§2.8) -------------------------------

    fn aggregate(&self, aggregate: Aggregate) -> Result<Fragment> {
        Ok(match aggregate {
            Aggregate::CountAll => Fragment::sql("COUNT(*)"),
            Aggregate::Count(x) => Fragment::call("COUNT", [x]),
            Aggregate::Distinct(x) => {
                let mut f = Fragment::sql("COUNT(DISTINCT ");
                f.push(x).push_sql(")");
                f
            }
            Aggregate::Sum(x) => Fragment::call("SUM", [x]),
            Aggregate::Avg(x) => Fragment::call("AVG", [x]),
            Aggregate::Min(x) => Fragment::call("MIN", [x]),
            Aggregate::Max(x) => Fragment::call("MAX", [x]),
            Aggregate::CountWhere(p) => count_where(p),
            Aggregate::SumWhere { expr, predicate } => {
                let mut f = Fragment::sql("SUM(CASE WHEN ");
                f.push(predicate)
                    .push_sql(" THEN ")
                    .push(expr)
                    .push_sql(" ELSE 0 END)");
                f
            }
            Aggregate::Share(p) => {
                let mut f = self.cast(count_where(p), self.float_type());
                f.push_sql(" / NULLIF(COUNT(*), 0)");
                f.parens()
            }
            s @ (Aggregate::StdDev(_)
            | Aggregate::Var(_)
            | Aggregate::Median(_)
            | Aggregate::Percentile { .. }) => self.statistic(s)?,
        })
    }

    /// `cum-sum` / `cum-count`: the grouped aggregation summed over the rows so far (§2.5);
    /// without a breakout (`None`) the aggregation itself. Counts stay integers.
    fn cumulative(&self, grouped: Fragment, running: Option<Running>, count: bool) -> Fragment {
        let Some(running) = running else {
            return grouped;
        };
        let mut f = Fragment::call("SUM", [grouped]);
        f.push_sql(" OVER (");
        if !running.partition_by.is_empty() {
            f.push_sql("PARTITION BY ")
                .push(Fragment::join(running.partition_by, ", "))
                .push_sql(" ");
        }
        f.push_sql("ORDER BY ")
            .push(running.order_by)
            .push_sql(" ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)");
        if count {
            self.cast(f, self.integer_type())
        } else {
            f
        }
    }

    /// The bin of `x` (§2.6.3): `floor((x - min) / width) * width + min`, bounds bound as floats
    /// (so integer columns never meet integer division).
    fn bin(&self, x: Fragment, min: f64, width: f64) -> Fragment {
        let mut inner = x;
        inner
            .push_sql(" - ")
            .push_param(Bound::Float(min))
            .push_sql(") / ")
            .push_param(Bound::Float(width));
        let mut f = Fragment::sql("(floor((");
        f.push(inner)
            .push_sql(") * ")
            .push_param(Bound::Float(width))
            .push_sql(" + ")
            .push_param(Bound::Float(min))
            .push_sql(")");
        f
    }

    /// `LIMIT n` and `OFFSET m` (written into the text, §3.1).
    fn limit_offset(&self, limit: u64, offset: u64) -> Fragment {
        let mut f = Fragment::sql("LIMIT ");
        f.push_int(i64::try_from(limit).unwrap_or(i64::MAX));
        if offset > 0 {
            f.push_sql(" OFFSET ")
                .push_int(i64::try_from(offset).unwrap_or(i64::MAX));
        }
        f
    }
}

fn count_where(predicate: Fragment) -> Fragment {
    let mut f = Fragment::sql("COUNT(CASE WHEN ");
    f.push(predicate).push_sql(" THEN 1 END)");
    f
}
