//! The one writer: a thread owning the write connection that commits the writes waiting for it
//! together (group commit). Each write runs in a savepoint of the group's `BEGIN IMMEDIATE`
//! transaction, in arrival order, so it sees the writes before it exactly as if it ran alone:
//! a failed condition rolls back that write only. The group commits with one sync, and no
//! write is answered before that commit: concurrent writers (a batch's lanes, several clients)
//! share a sync instead of queueing for one each.

use std::sync::mpsc::{Receiver, Sender};

use consent::ports::StoreError;
use rusqlite::{Connection, Transaction, TransactionBehavior};
use tokio::sync::oneshot;

use crate::errors::unavailable_reason;

/// When a commit returns, relative to the disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=FULL`: the WAL is synced at every commit, so an answered write survives a
    /// crash of the process and of the machine (a power cut). Each commit costs a sync.
    #[default]
    Full,
    /// `synchronous=NORMAL`: a commit is in the OS's cache when it returns and synced at the next
    /// checkpoint, so an answered write survives a crash of the process (`kill -9`) but the last
    /// ones may be lost in a power cut; commits cost no sync, several times faster.
    Normal,
}

impl Durability {
    /// The `PRAGMA synchronous` statement for it.
    pub(crate) fn pragma(self) -> &'static str {
        match self {
            Self::Full => "PRAGMA synchronous = FULL;",
            Self::Normal => "PRAGMA synchronous = NORMAL;",
        }
    }
}

/// Most writes one group commits.
const MAX_GROUP: usize = 64;

/// Why a group did not commit, given to each write in it.
#[derive(Debug, thiserror::Error)]
#[error("the group of writes this one was committed in failed: {message}")]
pub(crate) struct GroupFailed {
    reason: Option<&'static str>,
    message: String,
}

impl GroupFailed {
    fn of(error: &rusqlite::Error) -> Self {
        Self {
            reason: unavailable_reason(error),
            message: error.to_string(),
        }
    }

    fn store_error(&self, operation: &'static str) -> StoreError {
        let source = Box::new(Self {
            reason: self.reason,
            message: self.message.clone(),
        });
        match self.reason {
            Some(reason) => StoreError::Unavailable {
                operation,
                reason,
                source,
            },
            None => StoreError::Backend {
                operation,
                retryable: false,
                source,
            },
        }
    }
}

/// The writer thread has stopped (it only stops when every handle to the store is gone).
#[derive(Debug, thiserror::Error)]
#[error("the database writer has stopped")]
pub(crate) struct WriterStopped;

/// A write waiting for the writer, whatever it returns.
pub(crate) trait GroupWrite: Send {
    /// Whether its commit must be synced (every write but the local outbox's).
    fn synced(&self) -> bool;
    /// Runs it inside the group's transaction; `true` if it succeeded (its savepoint is kept).
    fn run(&mut self, tx: &Transaction<'_>) -> bool;
    /// Answers the caller once the group committed (or did not).
    fn answer(self: Box<Self>, commit: Result<(), &GroupFailed>);
}

/// A write and where its answer goes.
pub(crate) struct Write<T, F> {
    operation: &'static str,
    synced: bool,
    work: Option<F>,
    result: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Write<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
{
    /// A write of `work`, boxed for the writer's queue, answered through the returned receiver.
    pub(crate) fn boxed(
        operation: &'static str,
        synced: bool,
        work: F,
    ) -> (
        Box<dyn GroupWrite>,
        oneshot::Receiver<Result<T, StoreError>>,
    ) {
        let (reply, answer) = oneshot::channel();
        let write = Self {
            operation,
            synced,
            work: Some(work),
            result: None,
            reply,
        };
        (Box::new(write), answer)
    }
}

impl<T, F> GroupWrite for Write<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
{
    fn synced(&self) -> bool {
        self.synced
    }

    fn run(&mut self, tx: &Transaction<'_>) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        let operation = self.operation;
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(tx)))
            .unwrap_or_else(|_| {
                Err(StoreError::Backend {
                    operation,
                    retryable: false,
                    source: Box::new(WriterStopped),
                })
            });
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn answer(self: Box<Self>, commit: Result<(), &GroupFailed>) {
        let answer = match (self.result, commit) {
            (Some(Err(error)), _) => Err(error),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (_, Err(failed)) => Err(failed.store_error(self.operation)),
            (None, Ok(())) => Err(StoreError::Backend {
                operation: self.operation,
                retryable: true,
                source: Box::new(WriterStopped),
            }),
        };
        // The caller may have gone (its request was dropped): nothing to tell then.
        let _ = self.reply.send(answer);
    }
}

/// Starts the writer thread on `connection`; writes sent to the returned sender are committed
/// in groups until every sender is dropped.
pub(crate) fn start(
    connection: Connection,
    durability: Durability,
) -> std::io::Result<Sender<Box<dyn GroupWrite>>> {
    let (writes, queue) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("consent-sqlite-writer".to_string())
        .spawn(move || run(connection, durability, queue))?;
    Ok(writes)
}

fn run(mut connection: Connection, durability: Durability, queue: Receiver<Box<dyn GroupWrite>>) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let committed = commit(&mut connection, durability, &mut group);
        for write in group {
            write.answer(committed.as_ref().map(|_| ()));
        }
    }
}

/// Runs the group's writes, each in its savepoint, and commits them with one sync (none when
/// no write in it asks for one).
fn commit(
    connection: &mut Connection,
    durability: Durability,
    group: &mut [Box<dyn GroupWrite>],
) -> Result<(), GroupFailed> {
    let unsynced = durability == Durability::Full && !group.iter().any(|w| w.synced());
    let failed = |e: rusqlite::Error| GroupFailed::of(&e);
    if unsynced {
        connection
            .execute_batch(Durability::Normal.pragma())
            .map_err(failed)?;
    }
    let result = (|| {
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(failed)?;
        // Cached statements: parsing them anew for each write cost as much as a small write.
        let statement = |sql: &str| {
            tx.prepare_cached(sql)
                .and_then(|mut s| s.execute([]))
                .map_err(failed)
        };
        for write in group.iter_mut() {
            statement("SAVEPOINT write")?;
            if !write.run(&tx) {
                statement("ROLLBACK TO write")?;
            }
            statement("RELEASE write")?;
        }
        tx.commit().map_err(failed)
    })();
    if unsynced {
        // Back to syncing; if that fails the connection cannot be trusted to, so the group
        // fails too (its writes are committed, but none is answered as such).
        connection
            .execute_batch(durability.pragma())
            .map_err(failed)?;
    }
    result
}

/// Maps an error of the writer itself (not of a write) for a caller.
pub(crate) fn stopped(operation: &'static str) -> StoreError {
    StoreError::Backend {
        operation,
        retryable: false,
        source: Box::new(WriterStopped),
    }
}
