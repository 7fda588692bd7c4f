//! Just enough SQL lexing to enforce "exactly one statement" (queries.md §4.1): string literals,
//! quoted identifiers, comments and Postgres dollar quotes are skipped; a top-level `;` ends a
//! statement. One trailing `;` (followed only by whitespace and comments) is allowed.

/// Which quoting rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// The statement without its single trailing `;`, or `None` when the text holds more than one
/// statement (or none at all).
pub fn single_statement(sql: &str, dialect: Dialect) -> Option<String> {
    let bytes = sql.as_bytes();
    let mut i = 0;
    let mut end_of_first: Option<usize> = None;
    let mut saw_token = false;
    while i < bytes.len() {
        let b = bytes[i];
        let next = bytes.get(i + 1).copied();
        // Comments and whitespace never count as statement content.
        if b == b'-' && next == Some(b'-') {
            i = skip_line_comment(bytes, i);
            continue;
        }
        if b == b'/' && next == Some(b'*') {
            i = skip_block_comment(bytes, i, dialect == Dialect::Postgres);
            continue;
        }
        if b.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if end_of_first.is_some() {
            // Content after the terminating `;`: a second statement.
            return None;
        }
        match b {
            b';' => {
                if !saw_token {
                    return None;
                }
                end_of_first = Some(i);
                i += 1;
            }
            b'\'' => {
                let backslash = dialect == Dialect::Postgres
                    && i > 0
                    && matches!(bytes[i - 1], b'e' | b'E')
                    && (i < 2 || !is_ident_byte(bytes[i - 2]));
                i = skip_quoted(bytes, i, b'\'', backslash);
                saw_token = true;
            }
            b'"' => {
                i = skip_quoted(bytes, i, b'"', false);
                saw_token = true;
            }
            b'`' if dialect == Dialect::Sqlite => {
                i = skip_quoted(bytes, i, b'`', false);
                saw_token = true;
            }
            b'[' if dialect == Dialect::Sqlite => {
                // `[identifier]`, a SQLite quoting style.
                i = bytes[i..]
                    .iter()
                    .position(|b| *b == b']')
                    .map_or(bytes.len(), |p| i + p + 1);
                saw_token = true;
            }
            b'$' if dialect == Dialect::Postgres => {
                i = skip_dollar(bytes, i);
                saw_token = true;
            }
            _ => {
                i += 1;
                saw_token = true;
            }
        }
    }
    if !saw_token {
        return None;
    }
    Some(match end_of_first {
        Some(at) => sql[..at].to_string(),
        None => sql.to_string(),
    })
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

fn skip_line_comment(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i] != b'\n' {
        i += 1;
    }
    i
}

fn skip_block_comment(bytes: &[u8], mut i: usize, nested: bool) -> usize {
    let mut depth = 0usize;
    while i < bytes.len() {
        if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
            if depth == 0 || nested {
                depth += 1;
            }
            i += 2;
        } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
            depth = depth.saturating_sub(1);
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    i
}

/// Skips a quoted span starting at `i` (the opening quote); doubled quotes escape.
fn skip_quoted(bytes: &[u8], mut i: usize, quote: u8, backslash: bool) -> usize {
    i += 1;
    while i < bytes.len() {
        let b = bytes[i];
        if backslash && b == b'\\' {
            i += 2;
            continue;
        }
        if b == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    i
}

/// `$tag$ … $tag$`; a `$` that does not open a dollar quote (e.g. `$1`) is one byte.
fn skip_dollar(bytes: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    if bytes.get(j).is_some_and(|b| b.is_ascii_digit()) {
        return i + 1;
    }
    while j < bytes.len() && is_ident_byte(bytes[j]) {
        j += 1;
    }
    if bytes.get(j) != Some(&b'$') {
        return i + 1;
    }
    let tag = &bytes[i..=j];
    let mut k = j + 1;
    while k + tag.len() <= bytes.len() {
        if &bytes[k..k + tag.len()] == tag {
            return k + tag.len();
        }
        k += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_statement() {
        let s = |q: &str| single_statement(q, Dialect::Postgres);
        assert_eq!(s("SELECT 1").as_deref(), Some("SELECT 1"));
        assert_eq!(s("  SELECT 1 ; -- done\n").as_deref(), Some("  SELECT 1 "));
        assert_eq!(s("SELECT ';' AS x").as_deref(), Some("SELECT ';' AS x"));
        assert_eq!(s("SELECT $$a;b$$").as_deref(), Some("SELECT $$a;b$$"));
        assert_eq!(s("SELECT $1; ").as_deref(), Some("SELECT $1"));
        assert_eq!(s("SELECT E'\\';' ").as_deref(), Some("SELECT E'\\';' "));
        assert_eq!(
            s("/* a; /* b; */ c; */ SELECT 1").as_deref(),
            Some("/* a; /* b; */ c; */ SELECT 1")
        );
        assert!(s("SELECT 1; SELECT 2").is_none());
        assert!(s("SELECT 1;;").is_none());
        assert!(s("-- only a comment").is_none());
        assert!(s(";").is_none());
        let q = |q: &str| single_statement(q, Dialect::Sqlite);
        assert!(q("SELECT 1; SELECT 2").is_none());
        assert_eq!(
            q("SELECT `a;b` FROM t;").as_deref(),
            Some("SELECT `a;b` FROM t")
        );
        assert!(q("DELETE FROM ORDERS; --\nSELECT 1").is_none());
        assert_eq!(
            q("SELECT [a;b] FROM t").as_deref(),
            Some("SELECT [a;b] FROM t")
        );
    }
}
