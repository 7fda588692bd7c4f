//! Helpers for the MBQL scenarios (mbql.md §9): the Sample Database's table and field ids as
//! `query_metadata` lists them (never hard-coded), query bodies, and the native reference
//! results "rows = R(SQL)" compares with.
use std::collections::HashMap;

use serde_json::{json, Value};

use crate::support::{Auth, Resp, TestApp};

pub struct Ids {
    pub db: i64,
    tables: HashMap<String, i64>,
    fields: HashMap<String, i64>,
}

impl Ids {
    /// The ids of every table and field of database `db`.
    pub async fn load(t: &TestApp, auth: &Auth, db: i64) -> Ids {
        let meta = t
            .get(
                &format!("/api/database/{db}/metadata?include_hidden=true"),
                auth,
            )
            .await;
        meta.assert(200);
        let meta = meta.json();
        let mut ids = Ids {
            db,
            tables: HashMap::new(),
            fields: HashMap::new(),
        };
        for table in meta["tables"].as_array().unwrap() {
            let tname = table["name"].as_str().unwrap().to_string();
            ids.tables
                .insert(tname.clone(), table["id"].as_i64().unwrap());
            for f in table["fields"].as_array().unwrap() {
                let fname = f["name"].as_str().unwrap();
                ids.fields
                    .insert(format!("{tname}.{fname}"), f["id"].as_i64().unwrap());
            }
        }
        ids
    }

    #[track_caller]
    pub fn table(&self, name: &str) -> i64 {
        *self
            .tables
            .get(name)
            .unwrap_or_else(|| panic!("no table {name}"))
    }

    #[track_caller]
    pub fn field(&self, name: &str) -> i64 {
        *self
            .fields
            .get(name)
            .unwrap_or_else(|| panic!("no field {name}"))
    }

    /// `["field", ⟨T.C⟩, null]`.
    #[track_caller]
    pub fn f(&self, name: &str) -> Value {
        json!(["field", self.field(name), null])
    }

    /// `["field", ⟨T.C⟩, opts]`.
    #[track_caller]
    pub fn fo(&self, name: &str, opts: Value) -> Value {
        json!(["field", self.field(name), opts])
    }

    /// MBQL 5 `["field", {opts}, ⟨T.C⟩]`.
    #[track_caller]
    pub fn f5(&self, name: &str) -> Value {
        json!(["field", {"lib/uuid": uuid()}, self.field(name)])
    }

    /// `Q(x)`: a legacy ad-hoc query on this database.
    pub fn q(&self, inner: Value) -> Value {
        json!({"database": self.db, "type": "query", "query": inner})
    }

    /// `Q5(stage)`: an MBQL 5 query of one stage.
    pub fn q5(&self, mut stage: Value) -> Value {
        stage["lib/type"] = json!("mbql.stage/mbql");
        json!({"lib/type": "mbql/query", "database": self.db, "stages": [stage]})
    }
}

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A fresh uuid-shaped string.
pub fn uuid() -> String {
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("00000000-0000-4000-8000-{n:012x}")
}

pub async fn dataset(t: &TestApp, auth: &Auth, body: Value) -> Resp {
    t.post("/api/dataset", auth, body).await
}

/// A successful run's body.
#[track_caller]
pub fn completed(r: &Resp) -> Value {
    r.assert(202);
    let v = r.json();
    assert_eq!(v["status"], "completed", "{v}");
    v
}

pub async fn run(t: &TestApp, auth: &Auth, body: Value) -> Value {
    completed(&dataset(t, auth, body).await)
}

/// `R(SQL)`: the rows of native SQL on database `db`.
pub async fn rows_of(t: &TestApp, auth: &Auth, db: i64, sql: &str) -> Value {
    let body = json!({"database": db, "type": "native", "native": {"query": sql}});
    run(t, auth, body).await["data"]["rows"].clone()
}

/// A failure body with its status, `error_type` and `error`.
#[track_caller]
pub fn failure(r: &Resp, status: u16, error_type: &str, error: &str) {
    r.assert(status);
    let v = r.json();
    assert_eq!(v["error_type"], error_type, "{v}");
    assert_eq!(v["error"], error, "{v}");
}

/// The rows of two results as multisets (sorted by their JSON text).
pub fn sorted(rows: &Value) -> Vec<String> {
    let mut v: Vec<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.to_string())
        .collect();
    v.sort();
    v
}

/// Rows equal within a relative tolerance for floats.
#[track_caller]
pub fn assert_rows_close(got: &Value, want: &Value) {
    let (g, w) = (got.as_array().unwrap(), want.as_array().unwrap());
    assert_eq!(g.len(), w.len(), "rows: {got} vs {want}");
    for (a, b) in g.iter().zip(w) {
        let (a, b) = (a.as_array().unwrap(), b.as_array().unwrap());
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => {
                    assert!((x - y).abs() <= 1e-9 * y.abs().max(1.0), "{x} vs {y}")
                }
                _ => assert_eq!(x, y),
            }
        }
    }
}

/// `cols[*].name`.
pub fn col_names(v: &Value) -> Vec<String> {
    v["data"]["cols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

/// `cols[*].display_name`.
pub fn display_names(v: &Value) -> Vec<String> {
    v["data"]["cols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["display_name"].as_str().unwrap().to_string())
        .collect()
}
