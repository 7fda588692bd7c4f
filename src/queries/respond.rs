//! Streamed responses (queries.md §4.4, §6.2–§6.4). The status is chosen once the first row,
//! the end of the result or a failure is known; after that the body is written batch by batch
//! from the engine's channel, so memory stays flat. A JSON result that fails mid-stream is
//! completed with `"status": "failed"`; a download that fails mid-stream is aborted.
use std::collections::VecDeque;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;

use super::service::Plan;
use crate::state::App;
use crate::warehouse::cell::{
    cols_json, unique_names, write_csv_field, write_json_string, Cell, Column,
};
use crate::warehouse::engine::Event;
use crate::warehouse::error::{Class, QueryError, RunContext};

/// How rows become bytes.
pub trait Format: Send + 'static {
    fn start(&mut self, columns: &[Column], out: &mut Vec<u8>);
    fn rows(&mut self, rows: &[Vec<Cell>], out: &mut Vec<u8>);
    fn done(&mut self, columns: &[Column], truncated: bool, out: &mut Vec<u8>);
    /// Writes the failure, or answers `false` to abort the response.
    fn failed(&mut self, e: &QueryError, columns: &[Column], out: &mut Vec<u8>) -> bool;
}

fn interrupted() -> QueryError {
    QueryError::db(Class::Ferrobase, "The query was interrupted.")
}

/// Starts the plan and waits for the first decisive event: `Ok` with the events so far and
/// the channel, or the failure response.
async fn begin(
    app: &App,
    plan: &Plan,
) -> Result<(VecDeque<Event>, mpsc::Receiver<Event>), Response> {
    let slot = match app.queries.enter(plan.exec.deadline).await {
        Ok(Some(slot)) => slot,
        Ok(None) => {
            let e = QueryError::timed_out(plan.exec.timeout_secs);
            return Err(plan.ctx.failure(&e).into_response());
        }
        // README §4.6's busy answer: 503, `Retry-After: 1`.
        Err(crate::warehouse::limits::Busy) => {
            return Err(crate::error::ApiError::Busy.into_response())
        }
    };
    let mut rx = plan
        .warehouse
        .execute(plan.exec.clone(), app.shutdown.child_token(), slot);
    let mut first = VecDeque::new();
    loop {
        match rx.recv().await {
            Some(Event::Columns(c)) => first.push_back(Event::Columns(c)),
            Some(Event::Failed(e)) => return Err(plan.ctx.failure(&e).into_response()),
            Some(e) => {
                first.push_back(e);
                return Ok((first, rx));
            }
            None => return Err(plan.ctx.failure(&interrupted()).into_response()),
        }
    }
}

struct Stream<F> {
    format: F,
    pending: VecDeque<Event>,
    rx: mpsc::Receiver<Event>,
    columns: Vec<Column>,
    started: bool,
    finished: bool,
}

fn body<F: Format>(format: F, pending: VecDeque<Event>, rx: mpsc::Receiver<Event>) -> Body {
    let state = Stream {
        format,
        pending,
        rx,
        columns: Vec::new(),
        started: false,
        finished: false,
    };
    let stream = futures::stream::unfold(state, |mut st| async move {
        if st.finished {
            return None;
        }
        let mut out = Vec::new();
        loop {
            // Events already waiting join the same chunk (fewer, larger writes); otherwise the
            // chunk goes out as soon as it has content.
            let ev = match st.pending.pop_front() {
                Some(e) => Some(e),
                None if !out.is_empty() => match st.rx.try_recv() {
                    Ok(e) => Some(e),
                    Err(_) => return Some((Ok(Bytes::from(out)), st)),
                },
                None => st.rx.recv().await,
            };
            if let Some(Event::Columns(c)) = ev {
                st.columns = c;
                continue;
            }
            if !st.started {
                st.started = true;
                st.format.start(&st.columns, &mut out);
            }
            match ev {
                Some(Event::Rows(rows)) => {
                    st.format.rows(&rows, &mut out);
                    if out.len() < 64 * 1024 {
                        continue;
                    }
                }
                Some(Event::Done { columns, truncated }) => {
                    st.columns = columns;
                    st.format.done(&st.columns, truncated, &mut out);
                    st.finished = true;
                }
                other => {
                    let e = match other {
                        Some(Event::Failed(e)) => e,
                        _ => interrupted(),
                    };
                    st.finished = true;
                    if !st.format.failed(&e, &st.columns, &mut out) {
                        tracing::warn!(error = %e.message, "download failed after streaming began");
                        let err = std::io::Error::other(e.message);
                        return Some((Err(err), st));
                    }
                }
            }
            return Some((Ok::<Bytes, std::io::Error>(Bytes::from(out)), st));
        }
    });
    Body::from_stream(stream)
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
struct ResultJson {
    ctx: RunContext,
    native_form: Value,
    timezone: String,
    cap: usize,
    count: usize,
    cols: Option<Vec<Map<String, Value>>>,
}

impl ResultJson {
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

/// Runs `plan` and answers the §4.4 result (`202`) or the failure.
pub async fn result(app: &App, plan: Plan) -> Response {
    let (pending, rx) = match begin(app, &plan).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let format = ResultJson {
        ctx: plan.ctx,
        native_form: plan.native_form,
        timezone: plan.results_timezone,
        cap: plan.exec.cap,
        count: 0,
        cols: plan.cols,
    };
    let mut r = Response::new(body(format, pending, rx));
    *r.status_mut() = StatusCode::ACCEPTED;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

/// Export formats (§6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
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

struct Csv {
    planned: Option<Vec<(String, String)>>,
    settings: Value,
    format_rows: bool,
    bom: bool,
}

impl Format for Csv {
    fn start(&mut self, columns: &[Column], out: &mut Vec<u8>) {
        if self.bom {
            out.extend_from_slice("\u{feff}".as_bytes());
        }
        for (i, t) in titles(columns, &self.planned, &self.settings, self.format_rows)
            .iter()
            .enumerate()
        {
            if i > 0 {
                out.push(b',');
            }
            write_csv_field(t, out);
        }
        out.push(b'\n');
    }

    fn rows(&mut self, rows: &[Vec<Cell>], out: &mut Vec<u8>) {
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

    fn done(&mut self, _: &[Column], _: bool, _: &mut Vec<u8>) {}

    fn failed(&mut self, _: &QueryError, _: &[Column], _: &mut Vec<u8>) -> bool {
        false
    }
}

struct JsonRows {
    planned: Option<Vec<(String, String)>>,
    settings: Value,
    format_rows: bool,
    keys: Vec<Vec<u8>>,
    count: usize,
}

impl Format for JsonRows {
    fn start(&mut self, columns: &[Column], out: &mut Vec<u8>) {
        self.keys = titles(columns, &self.planned, &self.settings, self.format_rows)
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

    fn rows(&mut self, rows: &[Vec<Cell>], out: &mut Vec<u8>) {
        for row in rows {
            if self.count > 0 {
                out.push(b',');
            }
            self.count += 1;
            out.push(b'{');
            for (i, (c, k)) in row.iter().zip(&self.keys).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(k);
                c.write_json(out);
            }
            out.push(b'}');
        }
    }

    fn done(&mut self, _: &[Column], _: bool, out: &mut Vec<u8>) {
        out.push(b']');
    }

    fn failed(&mut self, _: &QueryError, _: &[Column], _: &mut Vec<u8>) -> bool {
        false
    }
}

/// Options of a download.
pub struct ExportOptions {
    pub format: ExportFormat,
    pub format_rows: bool,
    pub bom: bool,
}

/// Runs `plan` as a download (§6.2): `200` with an attachment, or the failure body.
pub async fn export(app: &App, plan: Plan, opts: ExportOptions) -> Response {
    let (pending, rx) = match begin(app, &plan).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let settings = plan.visualization_settings.clone();
    let planned = planned_titles(&plan.cols);
    let (body, content_type, ext) = match opts.format {
        ExportFormat::Csv => (
            body(
                Csv {
                    planned,
                    settings,
                    format_rows: opts.format_rows,
                    bom: opts.bom,
                },
                pending,
                rx,
            ),
            "text/csv; charset=utf-8",
            "csv",
        ),
        ExportFormat::Json => (
            body(
                JsonRows {
                    planned,
                    settings,
                    format_rows: opts.format_rows,
                    keys: Vec::new(),
                    count: 0,
                },
                pending,
                rx,
            ),
            "application/json; charset=utf-8",
            "json",
        ),
    };
    let requested = chrono::DateTime::from_timestamp_micros(plan.ctx.started_at.micros())
        .unwrap_or_else(chrono::Utc::now);
    let stamp = requested.format("%Y-%m-%dT%H%M%SZ");
    let disposition = format!("attachment; filename=\"query_result_{stamp}.{ext}\"");
    let mut r = Response::new(body);
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=0, no-cache, must-revalidate, proxy-revalidate"),
    );
    r
}
