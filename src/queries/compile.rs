//! `POST /api/dataset/native` (mbql.md §4.7): the statement a query compiles to, with its values
//! written inline, checked exactly as a run would be and never run (binning bounds aside).
use serde::Serialize;
use serde_json::Value;

use super::mbql::{self, Purpose};
use super::request::Query;
use super::service::{context, load_cards};
use crate::auth::Principal;
use crate::cards::native::Native;
use crate::cards::template::{self, Resolver};
use crate::databases::store::DatabaseRow;
use crate::error::ApiResult;
use crate::mbql::sql::Fragment;
use crate::permissions;
use crate::state::App;
use crate::store::Tx;
use crate::warehouse::error::{Class, QueryError, RunContext};

/// The answer: the SQL text; `params` is always `null` (the values are inline).
#[derive(Debug, Serialize)]
pub struct NativeText {
    pub query: String,
    pub params: Option<Vec<Value>>,
}

/// `q` parsed from the query object `json_query`, which failures echo.
pub async fn compile_text(
    app: &App,
    caller: &Principal,
    q: Query,
    json_query: Value,
    pretty: bool,
) -> ApiResult<NativeText> {
    let ctx = context(app, json_query, Some(q.database), "ad-hoc");
    let mut tx = app.store.read().await?;
    let Some(db) = tx.database_get(q.database).await? else {
        return Err(ctx.failure(&QueryError::invalid(format!(
            "Database {} does not exist.",
            q.database
        ))));
    };
    let Some(warehouse) = crate::databases::pooled_warehouse(app, &db) else {
        return Err(ctx.failure(&QueryError::db(
            Class::Ferrobase,
            "The database's connection details are invalid.",
        )));
    };
    let text = match &q.native {
        None => {
            let object = ctx.json_query.as_object().cloned().unwrap_or_default();
            let prepared = mbql::prepare(
                app,
                caller,
                tx.as_mut(),
                &db,
                &object,
                Purpose::AdHoc,
                warehouse,
            )
            .await;
            prepared
                .map_err(|r| r.into_api(&ctx))?
                .compiled
                .inline(pretty)
        }
        Some(native) => {
            let dialect = warehouse.dialect();
            native_text(tx.as_mut(), caller, &db, native, &q.parameters, &ctx)
                .await?
                .inline(dialect)
        }
    };
    tx.commit().await?;
    Ok(NativeText {
        query: text,
        params: None,
    })
}

/// Native SQL: native rights on the database, then its tags and referenced cards resolved.
async fn native_text(
    tx: &mut dyn Tx,
    caller: &Principal,
    db: &DatabaseRow,
    native: &Native,
    parameters: &[Value],
    ctx: &RunContext,
) -> ApiResult<Fragment> {
    if !permissions::access(tx, caller, db.id).await?.native {
        return Err(ctx.failure(&QueryError::permission()));
    }
    let cards = load_cards(tx, caller, native).await?;
    let resolver = Resolver {
        database_id: db.id,
        cards: &cards,
    };
    let values = template::parameter_values(parameters);
    match resolver.resolve(&native.sql, &native.tags, &values) {
        Ok(s) => Ok(Fragment::native(s.native_pieces())),
        Err(e) => Err(ctx.failure(&e)),
    }
}
