//! data-model.md §2.5–§2.6 on a PostgreSQL warehouse: sync reads the samples of several small
//! tables in one statement, and what it infers must be what one statement per table gives.
use serde_json::{json, Value};

use crate::both;
use crate::queries_pg::{add_pg, Scratch};
use crate::support::{Auth, TestApp};

/// Column types of the sampled tables, with a value expression over `g` (1..=rows) each.
const COLUMNS: &[(&str, &str)] = &[
    ("int2", "(g % 3)::int2"),
    ("int4", "g"),
    ("int8", "g * 10000000000"),
    ("float4", "(g / 4.0)::float4"),
    ("float8", "g / 7.0"),
    ("numeric(10,2)", "g * 1.25"),
    ("money", "(g * 2)::money"),
    ("text", "'name ' || (g % 4)"),
    ("varchar(20)", "'user' || g || '@example.com'"),
    ("char(3)", "'c' || (g % 2)"),
    ("uuid", "md5((g % 5)::text)::uuid"),
    ("date", "date '2020-01-01' + g"),
    ("time", "time '10:00' + g * interval '1 minute'"),
    ("timetz", "timetz '10:00+02' + g * interval '1 minute'"),
    ("timestamp", "timestamp '2020-01-01' + g * interval '1 day'"),
    (
        "timestamptz",
        "timestamptz '2020-01-01 00:00+00' + g * interval '1 hour'",
    ),
    ("inet", "('10.0.0.' || (g % 3))::inet"),
    ("cidr", "('10.' || (g % 2) || '.0.0/16')::cidr"),
    ("boolean", "g % 2 = 0"),
    (
        "text",
        "CASE WHEN g % 3 = 0 THEN NULL ELSE 'https://x.example/' || g END",
    ),
];

/// Ten small tables of every column type above (more than one statement's worth), a table
/// of an enum type (sampled alone), and a table whose rows the role cannot read (a row
/// security policy that divides by zero): it fails in its batch and must be skipped alone.
fn fixture(role: &str) -> String {
    let mut sql = String::from("CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy');");
    for t in 0..10 {
        let cols: Vec<String> = COLUMNS
            .iter()
            .enumerate()
            .map(|(i, (ty, _))| format!("c{i} {ty}"))
            .collect();
        let names: Vec<String> = (0..COLUMNS.len()).map(|i| format!("c{i}")).collect();
        let values: Vec<&str> = COLUMNS.iter().map(|(_, e)| *e).collect();
        sql += &format!(
            "CREATE TABLE public.small{t} (id serial PRIMARY KEY, {}) \
               WITH (autovacuum_enabled = false); \
             INSERT INTO public.small{t} ({}) SELECT {} FROM generate_series(1, {}) g;",
            cols.join(", "),
            names.join(", "),
            values.join(", "),
            5 + t * 3
        );
    }
    sql += "CREATE TABLE public.moods (id int PRIMARY KEY, mood public.mood, status text) \
              WITH (autovacuum_enabled = false); \
            INSERT INTO public.moods SELECT g, (ARRAY['sad','ok','happy'])[1 + g % 3]::public.mood, \
              'new' FROM generate_series(1, 9) g; \
            CREATE TABLE public.guarded (id int PRIMARY KEY, status text) \
              WITH (autovacuum_enabled = false); \
            INSERT INTO public.guarded SELECT g, 'open' FROM generate_series(1, 4) g; \
            ALTER TABLE public.guarded ENABLE ROW LEVEL SECURITY; \
            CREATE POLICY boom ON public.guarded USING (1 / (id - id) = 1);";
    sql += &format!("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role};");
    sql
}

/// Every field of database `db` by `table.column`: what analysis decides of it.
async fn analysed(t: &TestApp, admin: &Auth, db: i64) -> Vec<(String, Value)> {
    let meta = t
        .get(&format!("/api/database/{db}/metadata"), admin)
        .await
        .json();
    let mut out = Vec::new();
    for table in meta["tables"].as_array().unwrap() {
        for f in table["fields"].as_array().unwrap() {
            out.push((
                format!(
                    "{}.{}",
                    table["name"].as_str().unwrap(),
                    f["name"].as_str().unwrap()
                ),
                json!({
                    "fingerprint": f["fingerprint"],
                    "semantic_type": f["semantic_type"],
                    "has_field_values": f["has_field_values"],
                    "preview_display": f["preview_display"],
                    "analysed": !f["last_analyzed"].is_null(),
                    "base_type": f["base_type"],
                }),
            ));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

async fn sync(t: &TestApp, admin: &Auth, db: i64) {
    let r = t
        .post(
            &format!("/api/database/{db}/sync_schema?wait=true"),
            admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

both!(
    data_model_batched_samples_analyse_as_alone,
    |t| async move {
        let Some(s) = Scratch::create().await else {
            return;
        };
        s.exec(&fixture(&s.role)).await;
        let admin = t.setup().await;
        // Never analysed by PostgreSQL: no row estimate, so each table is sampled alone.
        let alone = add_pg(&t, &admin, "Alone", &s.details).await;
        sync(&t, &admin, alone).await;
        // With estimates, the small tables are sampled several per statement.
        s.exec("ANALYZE").await;
        let batched = add_pg(&t, &admin, "Batched", &s.details).await;
        sync(&t, &admin, batched).await;
        let (a, b) = (
            analysed(&t, &admin, alone).await,
            analysed(&t, &admin, batched).await,
        );
        assert_eq!(a.len(), 10 * (COLUMNS.len() + 1) + 3 + 2, "{a:?}");
        for ((name_a, fa), (name_b, fb)) in a.iter().zip(&b) {
            assert_eq!(name_a, name_b);
            assert_eq!(fa, fb, "{name_a}");
        }
        let get = |name: &str| &b.iter().find(|(n, _)| n == name).unwrap().1;
        // Every type was sampled: numbers, texts and times have their fingerprint entry.
        for i in 0..COLUMNS.len() {
            let f = get(&format!("small3.c{i}"));
            assert_eq!(f["analysed"], true, "c{i}: {f}");
            assert!(
                f["fingerprint"]["global"]["distinct-count"].is_number(),
                "c{i}: {f}"
            );
        }
        assert_eq!(
            get("small3.c2")["fingerprint"]["type"]["type/Number"]["max"],
            140000000000.0
        );
        assert_eq!(get("small3.c19")["semantic_type"], "type/URL");
        assert_eq!(get("moods.status")["semantic_type"], "type/Category");
        // The unreadable table is skipped alone: never analysed, in either database.
        assert_eq!(get("guarded.status")["analysed"], false);
        assert_eq!(get("guarded.status")["fingerprint"], Value::Null);
        assert_eq!(get("small9.c7")["analysed"], true);
    }
);
