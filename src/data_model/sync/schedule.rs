//! When syncs run (data-model.md §2.1, §2.10): at most one per database in this process, a
//! request during a running sync merged into one follow-up, progress recorded in the database
//! row, start-up syncs of stale databases one at a time, and periodic syncs.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use super::{run, Scope, SyncError};
use crate::databases::store::SyncStatusRow;
use crate::state::App;

/// The outcome a waiter (`sync_schema?wait=true`) receives.
pub type Outcome = Result<(), String>;

#[derive(Default)]
struct DbSync {
    cancel: CancellationToken,
    waiters: Vec<oneshot::Sender<Outcome>>,
    /// A follow-up requested while this sync runs, and who waits for it.
    follow_up: Option<(Scope, Vec<oneshot::Sender<Outcome>>)>,
}

/// Syncs running in this process, by database id.
#[derive(Default)]
pub struct Syncs {
    running: Mutex<HashMap<i64, DbSync>>,
    /// Syncs started by this process (for diagnostics and tests).
    started: std::sync::atomic::AtomicU64,
}

/// `idle`, `queued` or `running` (the `sync.state` of §2.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Idle,
    Queued,
    Running,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::Queued => "queued",
            State::Running => "running",
        }
    }
}

fn merge(a: Scope, b: Scope) -> Scope {
    if a == b {
        a
    } else {
        Scope::Database
    }
}

impl Syncs {
    pub fn state(&self, db_id: i64) -> State {
        match self.running.lock().get(&db_id) {
            None => State::Idle,
            Some(s) if s.follow_up.is_some() => State::Queued,
            Some(_) => State::Running,
        }
    }

    /// How many syncs this process has started.
    pub fn started(&self) -> u64 {
        self.started.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// [`Syncs::state`] as the database object writes it.
    pub fn state_name(&self, db_id: i64) -> &'static str {
        self.state(db_id).as_str()
    }

    /// Starts (or queues) a sync of a whole database; for features that reach the scheduler
    /// through the application state (a database created or reconnected).
    pub fn sync_database(&self, app: &Arc<App>, db_id: i64) {
        drop(request(app, db_id, Scope::Database));
    }

    /// Syncs a whole database and waits for the outcome (a new Sample Database).
    pub async fn sync_database_and_wait(&self, app: &Arc<App>, db_id: i64) -> Outcome {
        sync_and_wait(app, db_id, Scope::Database).await
    }

    /// Cancels the running sync of a database (it is being deleted).
    pub fn cancel(&self, db_id: i64) {
        if let Some(s) = self.running.lock().get(&db_id) {
            s.cancel.cancel();
            tracing::info!(db_id, "sync cancelled: the database is being deleted");
        }
    }
}

/// Requests a sync; the receiver gets its outcome. A request while one runs joins the single
/// pending follow-up.
pub fn request(app: &Arc<App>, db_id: i64, scope: Scope) -> oneshot::Receiver<Outcome> {
    let (tx, rx) = oneshot::channel();
    {
        let mut running = app.syncs.running.lock();
        if let Some(s) = running.get_mut(&db_id) {
            match &mut s.follow_up {
                Some((pending, waiters)) => {
                    *pending = merge(pending.clone(), scope);
                    waiters.push(tx);
                }
                None => s.follow_up = Some((scope, vec![tx])),
            }
            return rx;
        }
        running.insert(
            db_id,
            DbSync {
                waiters: vec![tx],
                ..DbSync::default()
            },
        );
    }
    let app = app.clone();
    tokio::spawn(async move { drive(app, db_id, scope).await });
    rx
}

/// Runs the sync, then its follow-ups, until none is pending.
async fn drive(app: Arc<App>, db_id: i64, mut scope: Scope) {
    loop {
        let cancel = match app.syncs.running.lock().get(&db_id) {
            Some(s) => s.cancel.clone(),
            None => return,
        };
        let outcome = once(&app, db_id, &scope, cancel).await;
        let mut running = app.syncs.running.lock();
        let Some(s) = running.get_mut(&db_id) else {
            return;
        };
        for w in s.waiters.drain(..) {
            let _ = w.send(outcome.clone());
        }
        match s.follow_up.take() {
            Some((next, waiters)) if !s.cancel.is_cancelled() => {
                s.waiters = waiters;
                scope = next;
            }
            _ => {
                running.remove(&db_id);
                return;
            }
        }
    }
}

/// One sync with its progress recorded (§2.10).
async fn once(app: &Arc<App>, db_id: i64, scope: &Scope, cancel: CancellationToken) -> Outcome {
    let started = Instant::now();
    let db = match load(app, db_id).await {
        Ok(Some(db)) => db,
        Ok(None) => return Err("The database no longer exists.".into()),
        Err(e) => return Err(e.0),
    };
    // One sync per database across instances: wait for another instance's to end.
    let wait = Duration::from_secs(app.config.query_timeout_secs);
    let lock = match app.store.sync_lock(db_id, wait).await {
        Ok(Some(lock)) => lock,
        Ok(None) => return Err("Another instance kept this database's sync running.".into()),
        Err(e) => return Err(SyncError::from(e).0),
    };
    app.syncs
        .started
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let _ = set_status(app, db_id, |s| {
        s.sync_state = "running".into();
        s.sync_last_started_at = Some(app.clock.now().micros());
    })
    .await;
    let result = run(app, &db, scope, cancel).await;
    lock.release().await;
    let now = app.clock.now().micros();
    let error = result.as_ref().err().map(|e| e.0.clone());
    let _ = set_status(app, db_id, |s| {
        s.sync_state = "idle".into();
        s.initial_sync_status = "complete".into();
        s.sync_last_finished_at = Some(now);
        if error.is_none() {
            s.sync_last_succeeded_at = Some(now);
        }
        s.sync_last_error = error.clone();
    })
    .await;
    let ms = started.elapsed().as_millis() as u64;
    match result {
        Ok(c) => {
            tracing::info!(
                db_id,
                ms,
                tables_created = c.tables_created,
                tables_updated = c.tables_updated,
                tables_deactivated = c.tables_deactivated,
                tables_reactivated = c.tables_reactivated,
                fields_created = c.fields_created,
                fields_updated = c.fields_updated,
                fields_deactivated = c.fields_deactivated,
                fields_reactivated = c.fields_reactivated,
                "sync finished"
            );
            Ok(())
        }
        Err(e) => {
            tracing::warn!(db_id, ms, error = %e.0, "sync failed");
            Err(e.0)
        }
    }
}

async fn load(
    app: &App,
    db_id: i64,
) -> Result<Option<crate::databases::store::DatabaseRow>, SyncError> {
    Ok(app.store.read().await?.database_get(db_id).await?)
}

async fn set_status(
    app: &App,
    db_id: i64,
    change: impl FnOnce(&mut SyncStatusRow),
) -> Result<(), SyncError> {
    let mut tx = app.store.begin().await?;
    let Some(mut s) = tx.database_sync_status(db_id).await? else {
        return Ok(());
    };
    change(&mut s);
    tx.database_sync_status_put(db_id, &s).await?;
    tx.commit().await?;
    Ok(())
}

/// Syncs and waits (the Sample Database at creation, `wait=true`).
pub async fn sync_and_wait(app: &Arc<App>, db_id: i64, scope: Scope) -> Outcome {
    request(app, db_id, scope)
        .await
        .unwrap_or_else(|_| Err("The sync was interrupted.".into()))
}

/// At start: the Sample Database, never synced, synchronously (§2.11); then, in the
/// background, stale databases one at a time in id order, and the periodic syncs.
pub async fn startup(app: &Arc<App>) -> anyhow::Result<()> {
    sync_new_sample(app).await?;
    // Read again: the Sample Database just synced is not stale.
    let statuses = statuses(app).await?;
    let app = app.clone();
    tokio::spawn(async move {
        if app.config.sync_on_start {
            let interval = app.config.sync_interval_secs;
            let now = app.clock.now().micros();
            for (d, s) in statuses {
                if is_stale(&s, interval, now) && !app.shutdown.is_cancelled() {
                    let _ = sync_and_wait(&app, d.id, Scope::Database).await;
                }
            }
        }
        periodic(app).await;
    });
    Ok(())
}

/// Syncs the Sample Database if it was never synced (§2.11: ferrobase syncs it when it creates
/// it): at a server's start, and before `ferrobase import` into a fresh application database.
pub async fn sync_new_sample(app: &Arc<App>) -> anyhow::Result<()> {
    for (d, s) in statuses(app).await? {
        if d.is_sample && s.sync_last_started_at.is_none() {
            if let Err(e) = sync_and_wait(app, d.id, Scope::Database).await {
                tracing::warn!(error = %e, "the Sample Database could not be synced");
            }
        }
    }
    Ok(())
}

/// Every database with its sync progress, by id.
async fn statuses(
    app: &App,
) -> Result<Vec<(crate::databases::store::DatabaseRow, SyncStatusRow)>, crate::store::StoreError> {
    let mut tx = app.store.read().await?;
    let mut progress: HashMap<i64, SyncStatusRow> =
        tx.database_sync_statuses().await?.into_iter().collect();
    let mut dbs = tx.database_list().await?;
    dbs.sort_by_key(|d| d.id);
    Ok(dbs
        .into_iter()
        .map(|d| {
            let s = progress.remove(&d.id).unwrap_or_default();
            (d, s)
        })
        .collect())
}

/// Whether `at` (microseconds) lies more than `interval_secs` before `now`.
fn older_than(at: i64, interval_secs: u64, now: i64) -> bool {
    now - at > (interval_secs as i64).saturating_mul(1_000_000)
}

/// Never synced successfully, or the last success is older than the interval.
fn is_stale(s: &SyncStatusRow, interval_secs: u64, now: i64) -> bool {
    s.sync_last_succeeded_at
        .is_none_or(|at| older_than(at, interval_secs, now))
}

/// Every database is synced `interval` after its last attempt (checked every 10 s), and no
/// earlier than `interval` after this process started: with `--no-sync-on-start`, a restart
/// does not sync at once (data-model.md scenario 30).
async fn periodic(app: Arc<App>) {
    let interval = app.config.sync_interval_secs;
    if interval == 0 {
        return;
    }
    let started = app.clock.now().micros();
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    loop {
        tokio::select! {
            _ = app.shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let Ok(due) = due_databases(&app, interval, started).await else {
            continue;
        };
        for id in due {
            drop(request(&app, id, Scope::Database));
        }
    }
}

/// Databases idle here whose last sync attempt (or, if later, `since`) is older than the
/// interval (one statement).
async fn due_databases(app: &App, interval: u64, since: i64) -> Result<Vec<i64>, SyncError> {
    let statuses = app.store.read().await?.database_sync_statuses().await?;
    let now = app.clock.now().micros();
    Ok(statuses
        .into_iter()
        .filter(|(id, s)| {
            app.syncs.state(*id) == State::Idle
                && older_than(
                    s.sync_last_started_at.unwrap_or(0).max(since),
                    interval,
                    now,
                )
        })
        .map(|(id, _)| id)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staleness() {
        let mut s = SyncStatusRow::default();
        assert!(is_stale(&s, 3600, 0));
        s.sync_last_succeeded_at = Some(0);
        assert!(!is_stale(&s, 3600, 3_600_000_000));
        assert!(is_stale(&s, 3600, 3_600_000_001));
    }

    #[test]
    fn follow_ups_merge_scopes() {
        assert_eq!(merge(Scope::Table(3), Scope::Table(3)), Scope::Table(3));
        assert_eq!(merge(Scope::Table(3), Scope::Table(4)), Scope::Database);
        assert_eq!(merge(Scope::Database, Scope::Table(4)), Scope::Database);
    }
}
