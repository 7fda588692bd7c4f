//! Running a plan and streaming its result (queries.md §4.4, §6.2–§6.4). The status is chosen
//! once the first row, the end of the result or a failure is known ([`begin`]); after that the
//! bytes are produced batch by batch from the engine's channel ([`chunks`]), so memory stays
//! flat. A JSON result that fails mid-stream is completed with `"status": "failed"`; a download
//! that fails mid-stream ends the stream with an error, which aborts the response.
use std::collections::VecDeque;

use futures::Stream;
use tokio::sync::mpsc;

use super::format::Format;
use super::service::Plan;
use crate::error::{ApiError, ApiResult};
use crate::state::App;
use crate::warehouse::cell::Column;
use crate::warehouse::engine::Event;
use crate::warehouse::error::{Class, QueryError};

fn interrupted() -> QueryError {
    QueryError::db(Class::Ferrobase, "The query was interrupted.")
}

/// A running query past its first decisive event: the events so far and the channel.
pub struct Started {
    pending: VecDeque<Event>,
    rx: mpsc::Receiver<Event>,
}

/// Starts the plan (waiting for a slot, README §4.6) and waits for the first decisive event;
/// a failure before it is the query-failure answer of §4.8 (or the busy answer).
pub async fn begin(app: &App, plan: &Plan) -> ApiResult<Started> {
    let slot = match app.queries.enter(plan.exec.deadline).await {
        Ok(Some(slot)) => slot,
        Ok(None) => {
            return Err(plan
                .ctx
                .failure(&QueryError::timed_out(plan.exec.timeout_secs)))
        }
        // README §4.6's busy answer: 503, `Retry-After: 1`.
        Err(crate::warehouse::limits::Busy) => return Err(ApiError::Busy),
    };
    let mut rx = plan
        .warehouse
        .execute(plan.exec.clone(), app.shutdown.child_token(), slot);
    let mut pending = VecDeque::new();
    loop {
        match rx.recv().await {
            Some(Event::Columns(c)) => pending.push_back(Event::Columns(c)),
            Some(Event::Failed(e)) => return Err(plan.ctx.failure(&e)),
            Some(e) => {
                pending.push_back(e);
                return Ok(Started { pending, rx });
            }
            None => return Err(plan.ctx.failure(&interrupted())),
        }
    }
}

struct State<F> {
    format: F,
    pending: VecDeque<Event>,
    rx: mpsc::Receiver<Event>,
    columns: Vec<Column>,
    started: bool,
    finished: bool,
}

/// The bytes of the result in `format`, a chunk per batch of events.
pub fn chunks<F: Format>(
    format: F,
    started: Started,
) -> impl Stream<Item = Result<Vec<u8>, std::io::Error>> + Send {
    let state = State {
        format,
        pending: started.pending,
        rx: started.rx,
        columns: Vec::new(),
        started: false,
        finished: false,
    };
    futures::stream::unfold(state, |mut st| async move {
        if st.finished {
            return None;
        }
        let chunk = st.next_chunk().await;
        Some((chunk, st))
    })
}

impl<F: Format> State<F> {
    /// The next chunk: events already waiting join it (fewer, larger writes); otherwise it goes
    /// out as soon as it has content.
    async fn next_chunk(&mut self) -> Result<Vec<u8>, std::io::Error> {
        let mut out = Vec::new();
        loop {
            let ev = match self.pending.pop_front() {
                Some(e) => Some(e),
                None if !out.is_empty() => match self.rx.try_recv() {
                    Ok(e) => Some(e),
                    Err(_) => return Ok(out),
                },
                None => self.rx.recv().await,
            };
            if let Some(Event::Columns(c)) = ev {
                self.columns = c;
                continue;
            }
            if !self.started {
                self.started = true;
                self.format.start(&self.columns, &mut out);
            }
            match ev {
                Some(Event::Rows(rows)) => {
                    self.format.rows(&rows, &mut out);
                    if out.len() < 64 * 1024 {
                        continue;
                    }
                }
                Some(Event::Done { columns, truncated }) => {
                    self.columns = columns;
                    self.format.done(&self.columns, truncated, &mut out);
                    self.finished = true;
                }
                other => {
                    let e = match other {
                        Some(Event::Failed(e)) => e,
                        _ => interrupted(),
                    };
                    self.finished = true;
                    if !self.format.failed(&e, &self.columns, &mut out) {
                        tracing::warn!(error = %e.message, "download failed after streaming began");
                        return Err(std::io::Error::other(e.message));
                    }
                }
            }
            return Ok(out);
        }
    }
}
