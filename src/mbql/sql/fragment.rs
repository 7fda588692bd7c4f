//! A piece of SQL with its bound values (mbql.md §3.1): text and parameters kept apart until the
//! whole statement is assembled, so placeholders are numbered once, at [`Fragment::render`]
//! (`?` for SQLite, `$1`, `$2`, … for PostgreSQL), however the pieces were nested.
//!
//! The text of a fragment can only grow through `&'static str` (keywords, punctuation, the
//! dialects' fixed formulas), [`Fragment::push_ident`] (quoted), and integers or finite floats
//! the compiler itself chose (`LIMIT`, a week offset, a `PERCENTILE_CONT` fraction). A value
//! from a query has no way into the text: it is a parameter, always.
use crate::warehouse::bound::Bound;
use crate::warehouse::sqltext::Dialect;

/// SQL text with bound values at byte offsets of that text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fragment {
    sql: String,
    /// `(offset in sql, value)`, offsets non-decreasing: the placeholder goes at the offset.
    params: Vec<(usize, Bound)>,
}

/// `"name"`, with inner `"` doubled: schema, table, column and alias names are used verbatim
/// from the metadata (upper case, spaces, reserved words all work). A NUL cannot be quoted
/// (neither engine has identifiers containing one); it never comes from a catalogue.
pub fn quote_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    out
}

impl Fragment {
    pub fn new() -> Fragment {
        Fragment::default()
    }

    /// Fixed SQL text.
    pub fn sql(text: &'static str) -> Fragment {
        Fragment {
            sql: text.to_string(),
            params: Vec::new(),
        }
    }

    /// One bound value.
    pub fn param(value: Bound) -> Fragment {
        Fragment {
            sql: String::new(),
            params: vec![(0, value)],
        }
    }

    /// A quoted identifier.
    pub fn ident(name: &str) -> Fragment {
        let mut f = Fragment::new();
        f.push_ident(name);
        f
    }

    /// `"qualifier"."name"`: a column of a table, join alias or `"source"`.
    pub fn column(qualifier: &str, name: &str) -> Fragment {
        let mut f = Fragment::ident(qualifier);
        f.push_sql(".").push_ident(name);
        f
    }

    /// An integer written into the text (limits, offsets, fixed day counts; never a value
    /// from the query other than `limit`/`page`, which §3.1 inlines).
    pub fn int(n: i64) -> Fragment {
        let mut f = Fragment::new();
        f.push_int(n);
        f
    }

    pub fn push_sql(&mut self, text: &'static str) -> &mut Self {
        self.sql.push_str(text);
        self
    }

    pub fn push_ident(&mut self, name: &str) -> &mut Self {
        self.sql.push_str(&quote_ident(name));
        self
    }

    pub fn push_int(&mut self, n: i64) -> &mut Self {
        self.sql.push_str(&n.to_string());
        self
    }

    /// A finite number written into the text (`PERCENTILE_CONT(0.25)`, which §3.1 inlines).
    /// A non-finite number is written as `NULL`: neither engine has a literal for it.
    pub fn push_number(&mut self, x: f64) -> &mut Self {
        if x.is_finite() {
            self.sql.push_str(&x.to_string());
        } else {
            self.sql.push_str("NULL");
        }
        self
    }

    pub fn push_param(&mut self, value: Bound) -> &mut Self {
        self.params.push((self.sql.len(), value));
        self
    }

    /// Appends another fragment (its values keep their order, after this one's).
    pub fn push(&mut self, other: Fragment) -> &mut Self {
        let at = self.sql.len();
        self.sql.push_str(&other.sql);
        self.params
            .extend(other.params.into_iter().map(|(o, v)| (o + at, v)));
        self
    }

    /// `(` self `)`.
    pub fn parens(self) -> Fragment {
        let mut f = Fragment::sql("(");
        f.push(self).push_sql(")");
        f
    }

    /// The parts separated by `sep`.
    pub fn join(parts: impl IntoIterator<Item = Fragment>, sep: &'static str) -> Fragment {
        let mut f = Fragment::new();
        for (i, p) in parts.into_iter().enumerate() {
            if i > 0 {
                f.push_sql(sep);
            }
            f.push(p);
        }
        f
    }

    /// `name(arg, arg, …)`.
    pub fn call(name: &'static str, args: impl IntoIterator<Item = Fragment>) -> Fragment {
        let mut f = Fragment::sql(name);
        f.push_sql("(")
            .push(Fragment::join(args, ", "))
            .push_sql(")");
        f
    }

    pub fn is_empty(&self) -> bool {
        self.sql.is_empty() && self.params.is_empty()
    }

    /// The values in placeholder order.
    pub fn params(&self) -> impl Iterator<Item = &Bound> {
        self.params.iter().map(|(_, v)| v)
    }

    /// The statement with the engine's placeholders, and the values in order.
    pub fn render(&self, dialect: Dialect) -> (String, Vec<Bound>) {
        let mut n = 0usize;
        let sql = self.interleave(|_, out| {
            n += 1;
            match dialect {
                Dialect::Sqlite => out.push('?'),
                Dialect::Postgres => {
                    out.push('$');
                    out.push_str(&n.to_string());
                }
            }
        });
        (sql, self.params().cloned().collect())
    }

    /// As [`Fragment::render`], but on PostgreSQL equal values share one placeholder, so an
    /// expression repeated in `GROUP BY` or `ORDER BY` (a bin, a `CASE`) is textually the same
    /// as in the `SELECT` list, which PostgreSQL requires to see them as one expression. Equal
    /// values have equal types (parameters are typed by their [`Bound`] variant), so sharing
    /// never changes a value's meaning. SQLite placeholders stay positional.
    pub fn render_shared(&self, dialect: Dialect) -> (String, Vec<Bound>) {
        if dialect == Dialect::Sqlite {
            return self.render(dialect);
        }
        let mut values: Vec<Bound> = Vec::new();
        let sql = self.interleave(|v, out| {
            let n = match values.iter().position(|x| same_value(x, v)) {
                Some(i) => i + 1,
                None => {
                    values.push(v.clone());
                    values.len()
                }
            };
            out.push('$');
            out.push_str(&n.to_string());
        });
        (sql, values)
    }

    /// Native SQL of a card or source query, which the caller may run (the service checks
    /// that), as the text of a fragment: the one way text that is not ferrobase's own enters
    /// a statement, always as a whole subquery.
    pub fn native(pieces: impl IntoIterator<Item = NativePiece>) -> Fragment {
        let mut f = Fragment::new();
        for p in pieces {
            match p {
                NativePiece::Sql(s) => f.sql.push_str(&s),
                NativePiece::Param(v) => {
                    f.params.push((f.sql.len(), v));
                }
            }
        }
        f
    }

    /// The text with every value written as a SQL literal, for display only (mbql.md §4.7):
    /// strings quoted with `'` doubled, numbers as written, booleans `TRUE`/`FALSE` on
    /// PostgreSQL and `1`/`0` on SQLite.
    pub fn inline(&self, dialect: Dialect) -> String {
        self.interleave(|v, out| out.push_str(&literal(v, dialect)))
    }

    fn interleave(&self, mut place: impl FnMut(&Bound, &mut String)) -> String {
        let mut out = String::with_capacity(self.sql.len() + 4 * self.params.len());
        let mut from = 0;
        for (at, v) in &self.params {
            out.push_str(&self.sql[from..*at]);
            place(v, &mut out);
            from = *at;
        }
        out.push_str(&self.sql[from..]);
        out
    }
}

/// A piece of a native statement: text, or a value bound where it stands.
#[derive(Debug, Clone, PartialEq)]
pub enum NativePiece {
    Sql(String),
    Param(Bound),
}

/// Values that may share a placeholder: equal and of one type (`-0.0` and `0.0` do not).
fn same_value(a: &Bound, b: &Bound) -> bool {
    match (a, b) {
        (Bound::Float(x), Bound::Float(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

/// A value as a SQL literal (display only, never run by ferrobase itself).
pub fn literal(v: &Bound, dialect: Dialect) -> String {
    match v {
        Bound::Text(s) => format!("'{}'", s.replace('\'', "''")),
        Bound::Int(i) => i.to_string(),
        Bound::Float(f) if f.is_finite() => f.to_string(),
        Bound::Float(_) => "NULL".to_string(),
        Bound::Bool(b) => match (dialect, b) {
            (Dialect::Postgres, true) => "TRUE".into(),
            (Dialect::Postgres, false) => "FALSE".into(),
            (Dialect::Sqlite, true) => "1".into(),
            (Dialect::Sqlite, false) => "0".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_at_render_however_fragments_nest() {
        let a = {
            let mut f = Fragment::column("ORDERS", "TOTAL");
            f.push_sql(" > ").push_param(Bound::Int(50));
            f
        };
        let b = {
            let mut f = Fragment::call(
                "instr",
                [
                    Fragment::column("P", "T"),
                    Fragment::param(Bound::Text("x".into())),
                ],
            );
            f.push_sql(" > 0");
            f
        };
        let both = Fragment::join([a.parens(), b.clone(), b], " AND ");
        let (pg, params) = both.render(Dialect::Postgres);
        assert_eq!(
            pg,
            r#"("ORDERS"."TOTAL" > $1) AND instr("P"."T", $2) > 0 AND instr("P"."T", $3) > 0"#
        );
        assert_eq!(
            params,
            [
                Bound::Int(50),
                Bound::Text("x".into()),
                Bound::Text("x".into())
            ]
        );
        let (lite, _) = both.render(Dialect::Sqlite);
        assert_eq!(
            lite,
            r#"("ORDERS"."TOTAL" > ?) AND instr("P"."T", ?) > 0 AND instr("P"."T", ?) > 0"#
        );
        assert_eq!(
            both.inline(Dialect::Sqlite),
            r#"("ORDERS"."TOTAL" > 50) AND instr("P"."T", 'x') > 0 AND instr("P"."T", 'x') > 0"#
        );
    }

    #[test]
    fn equal_values_share_a_postgres_placeholder() {
        let mut f = Fragment::sql("SELECT ");
        f.push_param(Bound::Float(2.0))
            .push_sql(", ")
            .push_param(Bound::Int(2))
            .push_sql(", ")
            .push_param(Bound::Float(2.0));
        assert_eq!(
            f.render_shared(Dialect::Postgres),
            (
                "SELECT $1, $2, $1".to_string(),
                vec![Bound::Float(2.0), Bound::Int(2)]
            )
        );
        assert_eq!(f.render_shared(Dialect::Sqlite), f.render(Dialect::Sqlite));
    }

    #[test]
    fn identifiers_double_their_quotes() {
        assert_eq!(quote_ident("Amount \"x\""), r#""Amount ""x""""#);
        assert_eq!(quote_ident("select"), r#""select""#);
        assert_eq!(
            Fragment::column("Mixed Case", "a")
                .render(Dialect::Postgres)
                .0,
            r#""Mixed Case"."a""#
        );
    }

    #[test]
    fn literals_for_display() {
        let mut f = Fragment::sql("SELECT ");
        f.push_param(Bound::Text("x' OR '1'='1".into()))
            .push_sql(", ")
            .push_param(Bound::Bool(true))
            .push_sql(", ")
            .push_param(Bound::Float(2.5))
            .push_sql(", ")
            .push_number(0.25);
        assert_eq!(
            f.inline(Dialect::Postgres),
            "SELECT 'x'' OR ''1''=''1', TRUE, 2.5, 0.25"
        );
        assert_eq!(
            f.inline(Dialect::Sqlite),
            "SELECT 'x'' OR ''1''=''1', 1, 2.5, 0.25"
        );
        assert_eq!(f.render(Dialect::Sqlite).0, "SELECT ?, ?, ?, 0.25");
    }
}
