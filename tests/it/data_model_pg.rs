//! data-model.md §7 scenarios on a PostgreSQL warehouse `W` (11–26, 28, 53, 78), run with both
//! application databases. The warehouse is a scratch database read through a read-only role.
use std::time::Duration;

use serde_json::{json, Value};

use crate::both;
use crate::queries_pg::{add_pg, Scratch};
use crate::support::{Auth, TestApp};

const FIXTURE: &str = "
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id serial PRIMARY KEY, email text NOT NULL, full_name text,
  status text, created_at timestamptz DEFAULT now());
CREATE TABLE shop.orders (id bigserial PRIMARY KEY, customer_id int REFERENCES shop.customers(id),
  total numeric(10,2), quantity int, placed_on date, payload jsonb);
CREATE VIEW shop.big_orders AS SELECT * FROM shop.orders WHERE total > 100;
CREATE MATERIALIZED VIEW shop.daily AS SELECT placed_on, count(*) AS order_count FROM shop.orders GROUP BY 1;
CREATE TABLE public.misc (x int);
COMMENT ON TABLE shop.orders IS 'All orders';
COMMENT ON COLUMN shop.customers.full_name IS 'Full legal name';
INSERT INTO shop.customers (email, full_name, status)
  SELECT 'c' || g || '@example.com', 'Name ' || g, (ARRAY['new','active','gone'])[1 + g % 3]
  FROM generate_series(1, 50) g;
";

/// The fixture, readable by the warehouse role.
async fn fixture(s: &Scratch) {
    s.exec(FIXTURE).await;
    grant(s).await;
}

async fn grant(s: &Scratch) {
    s.exec(&format!(
        "GRANT USAGE ON SCHEMA shop TO {r}; GRANT SELECT ON ALL TABLES IN SCHEMA shop TO {r}; \
         GRANT SELECT ON ALL TABLES IN SCHEMA public TO {r};",
        r = s.role
    ))
    .await;
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

/// Polls the database object until no sync of it runs or waits (at most 30 s): the object.
async fn wait_idle(t: &TestApp, admin: &Auth, db: i64) -> Value {
    let mut v = Value::Null;
    for _ in 0..300 {
        v = t.get(&format!("/api/database/{db}"), admin).await.json();
        if v["sync"]["state"] == "idle" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    v
}

/// Registers W and waits for its first sync.
async fn registered(t: &TestApp, admin: &Auth, s: &Scratch) -> i64 {
    let id = add_pg(t, admin, "W", &s.details).await;
    sync(t, admin, id).await;
    id
}

async fn table_id(t: &TestApp, admin: &Auth, db: i64, schema: &str, name: &str) -> i64 {
    let all = t.get("/api/table", admin).await.json();
    all.as_array()
        .unwrap()
        .iter()
        .find(|x| x["db_id"] == db && x["schema"] == schema && x["name"] == name)
        .and_then(|x| x["id"].as_i64())
        .unwrap_or_else(|| panic!("no table {schema}.{name}"))
}

async fn fields(t: &TestApp, admin: &Auth, table: i64) -> Vec<Value> {
    let v = t
        .get(&format!("/api/table/{table}/query_metadata"), admin)
        .await
        .json();
    v["fields"].as_array().cloned().unwrap_or_default()
}

fn named<'a>(fields: &'a [Value], name: &str) -> &'a Value {
    fields
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no field {name}"))
}

both!(data_model_11_to_14_sync_at_creation, |t| async move {
    let Some(s) = Scratch::create().await else {
        return;
    };
    fixture(&s).await;
    let admin = t.setup().await;
    let r = t
        .post(
            "/api/database",
            &admin,
            json!({"name": "W", "engine": "postgres", "details": s.details}),
        )
        .await;
    r.assert(200);
    assert_eq!(r.json()["initial_sync_status"], "incomplete");
    let id = r.json()["id"].as_i64().unwrap();
    let done = wait_idle(&t, &admin, id).await;
    assert_eq!(done["initial_sync_status"], "complete", "{done}");
    assert_eq!(done["sync"]["last_error"], Value::Null, "{done}");
    assert!(done["sync"]["last_succeeded_at"].is_string(), "{done}");
    assert_eq!(
        t.get(&format!("/api/database/{id}/schemas"), &admin)
            .await
            .json(),
        json!(["public", "shop"])
    );
    let shop = t
        .get(&format!("/api/database/{id}/schema/shop"), &admin)
        .await
        .json();
    let names: Vec<&str> = shop
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["display_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Big Orders", "Customers", "Daily", "Orders"]);
    assert!(shop[0].get("fields").is_none());
    let all = t.get("/api/table", &admin).await.json();
    let w: Vec<&Value> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["db_id"] == id)
        .collect();
    let w_names: Vec<&str> = w.iter().map(|x| x["name"].as_str().unwrap()).collect();
    assert_eq!(
        w_names,
        ["big_orders", "customers", "daily", "misc", "orders"]
    );
    let orders = w.iter().find(|x| x["name"] == "orders").unwrap();
    assert_eq!(orders["description"], "All orders");
    assert_eq!(orders["entity_type"], "entity/TransactionTable");
});

both!(
    data_model_15_to_18_postgres_types_and_keys,
    |t| async move {
        let Some(s) = Scratch::create().await else {
            return;
        };
        fixture(&s).await;
        s.exec("CREATE SCHEMA secret; CREATE TABLE secret.t (x int);")
            .await;
        let admin = t.setup().await;
        let id = registered(&t, &admin, &s).await;
        let orders = fields(&t, &admin, table_id(&t, &admin, id, "shop", "orders").await).await;
        let customers = fields(
            &t,
            &admin,
            table_id(&t, &admin, id, "shop", "customers").await,
        )
        .await;
        let oid = named(&orders, "id");
        assert_eq!(
            (oid["database_type"].clone(), oid["base_type"].clone()),
            (json!("int8"), json!("type/BigInteger"))
        );
        assert_eq!(oid["semantic_type"], "type/PK");
        assert_eq!(
            (
                oid["database_is_pk"].clone(),
                oid["database_is_auto_increment"].clone()
            ),
            (json!(true), json!(true))
        );
        assert_eq!(named(&orders, "customer_id")["semantic_type"], "type/FK");
        assert_eq!(
            named(&orders, "customer_id")["fk_target_field_id"],
            named(&customers, "id")["id"]
        );
        assert_eq!(named(&orders, "total")["database_type"], "numeric");
        assert_eq!(named(&orders, "total")["base_type"], "type/Decimal");
        assert_eq!(named(&orders, "quantity")["semantic_type"], "type/Quantity");
        assert_eq!(named(&orders, "placed_on")["base_type"], "type/Date");
        let payload = named(&orders, "payload");
        assert_eq!(
            (
                payload["database_type"].clone(),
                payload["base_type"].clone()
            ),
            (json!("jsonb"), json!("type/JSON"))
        );
        assert_eq!(
            (
                payload["preview_display"].clone(),
                payload["fingerprint"].clone()
            ),
            (json!(false), Value::Null)
        );
        let full_name = named(&customers, "full_name");
        assert_eq!(full_name["description"], "Full legal name");
        assert_eq!(full_name["semantic_type"], "type/Name");
        assert_eq!(named(&customers, "email")["semantic_type"], "type/Email");
        assert_eq!(named(&customers, "email")["database_required"], true);
        assert_eq!(
            named(&customers, "status")["semantic_type"],
            "type/Category"
        );
        assert_eq!(named(&customers, "status")["has_field_values"], "list");
        let created = named(&customers, "created_at");
        assert_eq!(created["database_type"], "timestamptz");
        assert_eq!(created["base_type"], "type/DateTimeWithLocalTZ");
        assert_eq!(created["semantic_type"], "type/CreationTimestamp");
        assert!(created["database_default"]
            .as_str()
            .unwrap()
            .starts_with("now()"));
        let view = fields(
            &t,
            &admin,
            table_id(&t, &admin, id, "shop", "big_orders").await,
        )
        .await;
        let order: Vec<&str> = view.iter().map(|f| f["name"].as_str().unwrap()).collect();
        assert_eq!(
            order,
            [
                "id",
                "customer_id",
                "total",
                "quantity",
                "placed_on",
                "payload"
            ]
        );
        assert_eq!(named(&view, "id")["semantic_type"], "type/PK");
        assert_eq!(named(&view, "customer_id")["semantic_type"], Value::Null);
        assert_eq!(
            t.get(&format!("/api/database/{id}/schemas"), &admin)
                .await
                .json(),
            json!(["public", "shop"])
        );
    }
);

both!(
    data_model_19_to_21_disappearing_and_returning,
    |t| async move {
        let Some(s) = Scratch::create().await else {
            return;
        };
        fixture(&s).await;
        let admin = t.setup().await;
        let id = registered(&t, &admin, &s).await;
        let orders_id = table_id(&t, &admin, id, "shop", "orders").await;
        let quantity = named(&fields(&t, &admin, orders_id).await, "quantity")["id"].clone();
        s.exec("ALTER TABLE shop.orders DROP COLUMN quantity CASCADE")
            .await;
        sync(&t, &admin, id).await;
        assert_eq!(
            t.get(&format!("/api/field/{quantity}"), &admin)
                .await
                .json()["active"],
            false
        );
        assert!(fields(&t, &admin, orders_id)
            .await
            .iter()
            .all(|f| f["name"] != "quantity"));
        s.exec("ALTER TABLE shop.orders ADD COLUMN quantity int")
            .await;
        grant(&s).await;
        sync(&t, &admin, id).await;
        let back = named(&fields(&t, &admin, orders_id).await, "quantity").clone();
        assert_eq!(
            (back["id"].clone(), back["active"].clone()),
            (quantity, json!(true))
        );
        let misc = table_id(&t, &admin, id, "public", "misc").await;
        t.put(
            &format!("/api/table/{misc}"),
            &admin,
            json!({"description": "scratch"}),
        )
        .await
        .assert(200);
        s.exec("DROP TABLE public.misc").await;
        sync(&t, &admin, id).await;
        let gone = t.get(&format!("/api/table/{misc}"), &admin).await.json();
        assert_eq!(gone["active"], false);
        assert!(gone["deactivated_at"].is_string());
        assert_eq!(
            t.get(&format!("/api/database/{id}/schemas"), &admin)
                .await
                .json(),
            json!(["shop"])
        );
        s.exec("CREATE TABLE public.misc (x int)").await;
        grant(&s).await;
        sync(&t, &admin, id).await;
        let again = t.get(&format!("/api/table/{misc}"), &admin).await.json();
        assert_eq!(
            (again["active"].clone(), again["description"].clone()),
            (json!(true), json!("scratch"))
        );
    }
);

both!(data_model_22_to_25_edits_survive_sync, |t| async move {
    let Some(s) = Scratch::create().await else {
        return;
    };
    fixture(&s).await;
    let admin = t.setup().await;
    let id = registered(&t, &admin, &s).await;
    let customers = fields(
        &t,
        &admin,
        table_id(&t, &admin, id, "shop", "customers").await,
    )
    .await;
    let orders_id = table_id(&t, &admin, id, "shop", "orders").await;
    let orders = fields(&t, &admin, orders_id).await;
    let status = named(&customers, "status")["id"].clone();
    let edit = json!({"semantic_type": null, "description": "Lifecycle", "display_name": "State",
                      "visibility_type": "details-only"});
    t.put(&format!("/api/field/{status}"), &admin, edit)
        .await
        .assert(200);
    let total = named(&orders, "total")["id"].clone();
    t.put(
        &format!("/api/field/{total}"),
        &admin,
        json!({"semantic_type": "type/Price"}),
    )
    .await
    .assert(200);
    let customer_id = named(&orders, "customer_id")["id"].clone();
    let email = named(&customers, "email")["id"].clone();
    t.put(
        &format!("/api/field/{customer_id}"),
        &admin,
        json!({"fk_target_field_id": email}),
    )
    .await
    .assert(200);
    let quantity = named(&orders, "quantity")["id"].clone();
    let analysed = t
        .get(&format!("/api/field/{quantity}"), &admin)
        .await
        .json()["last_analyzed"]
        .clone();
    // The views depend on the columns whose types change.
    s.exec("DROP VIEW shop.big_orders; DROP MATERIALIZED VIEW shop.daily")
        .await;
    s.exec("ALTER TABLE shop.orders ALTER COLUMN total TYPE float8")
        .await;
    s.exec("ALTER TABLE shop.orders ALTER COLUMN quantity TYPE text")
        .await;
    t.clock.advance_seconds(2);
    sync(&t, &admin, id).await;
    sync(&t, &admin, id).await;
    let st = t.get(&format!("/api/field/{status}"), &admin).await.json();
    assert_eq!(st["semantic_type"], Value::Null);
    assert_eq!(st["description"], "Lifecycle");
    assert_eq!(st["display_name"], "State");
    assert_eq!(st["visibility_type"], "details-only");
    let tt = t.get(&format!("/api/field/{total}"), &admin).await.json();
    assert_eq!(
        (tt["database_type"].clone(), tt["base_type"].clone()),
        (json!("float8"), json!("type/Float"))
    );
    assert_eq!(tt["semantic_type"], "type/Price");
    let q = t
        .get(&format!("/api/field/{quantity}"), &admin)
        .await
        .json();
    assert_eq!(q["base_type"], "type/Text");
    assert_eq!(q["semantic_type"], Value::Null);
    assert!(q["last_analyzed"].as_str() > analysed.as_str(), "{q}");
    assert_eq!(
        t.get(&format!("/api/field/{customer_id}"), &admin)
            .await
            .json()["fk_target_field_id"],
        email
    );
});

both!(data_model_26_sync_state_and_new_tables, |t| async move {
    let Some(s) = Scratch::create().await else {
        return;
    };
    fixture(&s).await;
    let admin = t.setup().await;
    let id = registered(&t, &admin, &s).await;
    s.exec(
        "CREATE TABLE shop.items (id int PRIMARY KEY, order_id bigint REFERENCES shop.orders(id))",
    )
    .await;
    grant(&s).await;
    t.post(
        &format!("/api/database/{id}/sync_schema"),
        &admin,
        json!({}),
    )
    .await
    .assert(200);
    let state = t.get(&format!("/api/database/{id}"), &admin).await.json()["sync"]["state"].clone();
    assert!(state == "running" || state == "queued", "{state}");
    wait_idle(&t, &admin, id).await;
    let items = fields(&t, &admin, table_id(&t, &admin, id, "shop", "items").await).await;
    assert_eq!(named(&items, "order_id")["semantic_type"], "type/FK");
});

both!(data_model_28_unreachable_warehouse, |t| async move {
    let Some(s) = Scratch::create().await else {
        return;
    };
    fixture(&s).await;
    let admin = t.setup().await;
    let id = registered(&t, &admin, &s).await;
    let before = t
        .get(&format!("/api/database/{id}/metadata"), &admin)
        .await
        .json();
    s.exec(&format!("ALTER ROLE {} NOLOGIN", s.role)).await;
    t.app.warehouses.forget(id);
    let r = t
        .post(
            &format!("/api/database/{id}/sync_schema"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.content_type().starts_with("text/plain"));
    assert!(!r.text.is_empty());
    assert_eq!(
        t.get(&format!("/api/database/{id}/metadata"), &admin)
            .await
            .json()["tables"],
        before["tables"]
    );
});

both!(data_model_53_rescan_values, |t| async move {
    let Some(s) = Scratch::create().await else {
        return;
    };
    fixture(&s).await;
    let admin = t.setup().await;
    let id = registered(&t, &admin, &s).await;
    let customers = fields(
        &t,
        &admin,
        table_id(&t, &admin, id, "shop", "customers").await,
    )
    .await;
    let status = named(&customers, "status")["id"].clone();
    s.exec("UPDATE shop.customers SET status = 'vip' WHERE id = 1")
        .await;
    let r = t
        .post(
            &format!("/api/database/{id}/rescan_values"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(r.json(), json!({"status": "ok"}));
    let want = json!([["active"], ["gone"], ["new"], ["vip"]]);
    let mut last = Value::Null;
    for _ in 0..100 {
        last = t
            .get(&format!("/api/field/{status}/values"), &admin)
            .await
            .json()["values"]
            .clone();
        if last == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(last, want);
});

both!(data_model_78_delete_a_database, |t| async move {
    let Some(s) = Scratch::create().await else {
        return;
    };
    fixture(&s).await;
    let admin = t.setup().await;
    let id = registered(&t, &admin, &s).await;
    t.post(
        &format!("/api/database/{id}/sync_schema"),
        &admin,
        json!({}),
    )
    .await
    .assert(200);
    t.delete(&format!("/api/database/{id}"), &admin)
        .await
        .assert(204);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let all = t.get("/api/table", &admin).await.json();
    assert!(all.as_array().unwrap().iter().all(|x| x["db_id"] != id));
});

both!(
    data_model_27_requests_merge_into_one_follow_up,
    |t| async move {
        let Some(s) = Scratch::create().await else {
            return;
        };
        fixture(&s).await;
        let admin = t.setup().await;
        let id = registered(&t, &admin, &s).await;
        let before = t.app.syncs.started();
        // The five requests go out together: the scenario's "within 100 ms". Sent one after the
        // other, a slow machine lets a follow-up finish before the last one arrives.
        let path = format!("/api/database/{id}/sync_schema");
        let answers =
            futures::future::join_all((0..5).map(|_| t.post(&path, &admin, json!({})))).await;
        for r in &answers {
            assert_eq!(r.json(), json!({"status": "ok"}));
        }
        wait_idle(&t, &admin, id).await;
        let started = t.app.syncs.started() - before;
        assert!((1..=2).contains(&started), "{started} syncs started");
    }
);

both!(
    data_model_sync_waits_for_another_instance,
    config = |c: &mut ferrobase::config::Config| c.query_timeout_secs = 2,
    |t| async move {
        let Some(s) = Scratch::create().await else {
            return;
        };
        fixture(&s).await;
        let admin = t.setup().await;
        let id = registered(&t, &admin, &s).await;
        if t.backend == crate::support::Backend::Sqlite {
            return; // One server per SQLite file: there is no other instance.
        }
        // Another instance's sync of W, as the advisory lock it holds.
        let held = t
            .app
            .store
            .sync_lock(id, Duration::from_secs(1))
            .await
            .unwrap()
            .unwrap();
        let r = t
            .post(
                &format!("/api/database/{id}/sync_schema?wait=true"),
                &admin,
                json!({}),
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.text);
        held.release().await;
        sync(&t, &admin, id).await;
    }
);

both!(
    data_model_29_periodic_sync_records_its_failure,
    config = |c: &mut ferrobase::config::Config| c.sync_interval_secs = 60,
    |t| async move {
        let Some(s) = Scratch::create().await else {
            return;
        };
        fixture(&s).await;
        let admin = t.setup().await;
        let mut details = s.details.clone();
        details["password"] = json!("s3cret-pw-29");
        let id = add_pg(&t, &admin, "W", &details).await;
        sync(&t, &admin, id).await;
        // The warehouse refuses the role from now on (a password changed outside ferrobase).
        s.exec(&format!("ALTER ROLE {} NOLOGIN", s.role)).await;
        t.app.warehouses.forget(id);
        t.clock.advance_seconds(61);
        let mut status = Value::Null;
        for _ in 0..200 {
            status = t.get(&format!("/api/database/{id}"), &admin).await.json()["sync"].clone();
            if status["last_error"].is_string() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let error = status["last_error"]
            .as_str()
            .unwrap_or_else(|| panic!("no failure: {status}"));
        assert!(!error.contains("s3cret-pw-29"), "{error}");
        let tables = t.get("/api/table", &admin).await.json();
        let w: Vec<&Value> = tables
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["db_id"] == id)
            .collect();
        assert_eq!(w.len(), 5);
        assert!(w.iter().all(|x| x["active"] == true));
    }
);

both!(data_model_field_values_of_many_fields, |t| async move {
    // Sync reads field values several fields per statement on PostgreSQL: the values of 152
    // fields of common types (more than one statement's worth) must be what one statement per
    // field gives, and a field whose values cannot be read must be skipped alone.
    let Some(s) = Scratch::create().await else {
        return;
    };
    let types = ["int", "text", "boolean", "bigint", "varchar(8)", "uuid"];
    let exprs = [
        "g % 3",
        "'t' || (g % 4)",
        "g % 2 = 0",
        "(g % 5) * 10000000000",
        "'v' || (g % 2)",
        "md5((g % 2)::text)::uuid",
    ];
    let mut sql = String::new();
    for i in 0..3 {
        let cols: Vec<String> = (0..50).map(|c| format!("c{c} {}", types[c % 6])).collect();
        let names: Vec<String> = (0..50).map(|c| format!("c{c}")).collect();
        let values: Vec<&str> = (0..50).map(|c| exprs[c % 6]).collect();
        sql += &format!(
            "CREATE TABLE public.wide{i} (id serial PRIMARY KEY, {}); \
             INSERT INTO public.wide{i} ({}) SELECT {} FROM generate_series(1, 20) g;",
            cols.join(", "),
            names.join(", "),
            values.join(", ")
        );
    }
    // `fails` divides by zero past the 10,000 rows the fingerprint samples, so it is analysed
    // as a list but its values cannot be read.
    sql += "CREATE TABLE public.base AS SELECT g AS id FROM generate_series(1, 10001) g; \
            CREATE VIEW public.fragile AS SELECT id % 3 AS fine, \
              CASE WHEN id > 10000 THEN id / (id - id) ELSE id % 3 END AS fails \
              FROM public.base;";
    sql += &format!("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {};", s.role);
    s.exec(&sql).await;
    let admin = t.setup().await;
    let id = registered(&t, &admin, &s).await;
    let values = |field: Value| {
        let t = &t;
        let admin = &admin;
        async move {
            t.get(&format!("/api/field/{field}/values"), admin)
                .await
                .json()["values"]
                .clone()
        }
    };
    for i in 0..3 {
        let table = fields(
            &t,
            &admin,
            table_id(&t, &admin, id, "public", &format!("wide{i}")).await,
        )
        .await;
        for c in 0..50 {
            let f = named(&table, &format!("c{c}"));
            assert_eq!(f["has_field_values"], "list", "{f}");
            let got = values(f["id"].clone()).await;
            match c % 6 {
                0 => assert_eq!(got, json!([[0], [1], [2]])),
                1 => assert_eq!(got, json!([["t0"], ["t1"], ["t2"], ["t3"]])),
                2 => assert_eq!(got, json!([[false], [true]])),
                3 => assert_eq!(
                    got,
                    json!([
                        [0],
                        [10000000000_i64],
                        [20000000000_i64],
                        [30000000000_i64],
                        [40000000000_i64]
                    ])
                ),
                4 => assert_eq!(got, json!([["v0"], ["v1"]])),
                _ => {
                    let uuids: Vec<&str> = got
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v[0].as_str().unwrap())
                        .collect();
                    assert_eq!(uuids.len(), 2, "{got}");
                    assert!(uuids[0] < uuids[1] && uuids[0].len() == 36, "{got}");
                }
            }
        }
    }
    let fragile = fields(
        &t,
        &admin,
        table_id(&t, &admin, id, "public", "fragile").await,
    )
    .await;
    assert_eq!(named(&fragile, "fails")["has_field_values"], "list");
    assert_eq!(
        values(named(&fragile, "fine")["id"].clone()).await,
        json!([[0], [1], [2]])
    );
    assert_eq!(
        values(named(&fragile, "fails")["id"].clone()).await,
        json!([])
    );
});
