//! The hub's writers: every append and reset of a room goes through one
//! task, which takes all the writes waiting, commits them in one transaction
//! (one disk sync: group commit), then publishes the messages in commit
//! order and answers each caller. Acks stay durable while throughput follows
//! the batch size instead of the disk's sync latency; and with one writer
//! per room, subscribers see each room's seqs in order without any lock.
//! Rooms are spread over as many writers as the store runs side by side
//! ([`HistoryStore::parallel_writers`]): one on SQLite, several on
//! PostgreSQL, where a group commit is a round trip per statement.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::protocol::ServerFrame;
use super::relay::Relay;
use crate::history::{Appended, HistoryError, HistoryStore, NewMessage, RoomHead, RoomId};

/// Most appends committed together.
const MAX_GROUP: usize = 512;

type Results = Vec<Result<Appended, HistoryError>>;

enum Write {
    Append(NewMessage, oneshot::Sender<Result<Appended, HistoryError>>),
    /// Many messages in one transaction of their own (a history import).
    Import(
        Vec<NewMessage>,
        oneshot::Sender<Result<Results, HistoryError>>,
    ),
    Reset(RoomId, oneshot::Sender<Result<RoomHead, HistoryError>>),
}

/// Handle to the writer tasks; they end when every handle is dropped.
#[derive(Debug, Clone)]
pub struct Writer {
    shards: Arc<[mpsc::Sender<Write>]>,
}

fn gone() -> HistoryError {
    HistoryError::Failed("the history writer has stopped".into())
}

impl Writer {
    /// Starts the writers over `history`, publishing through `relay`.
    pub fn start(history: Arc<dyn HistoryStore>, relay: Arc<Relay>) -> Self {
        let shards = (0..history.parallel_writers().max(1))
            .map(|_| {
                let (tx, rx) = mpsc::channel(4 * MAX_GROUP);
                tokio::spawn(run(history.clone(), relay.clone(), rx));
                tx
            })
            .collect();
        Self { shards }
    }

    /// The writer of `room`: always the same one, so its writes stay in
    /// order.
    fn of(&self, room: &RoomId) -> &mpsc::Sender<Write> {
        let hash = hangar_storage::db::stable_hash(room.as_str());
        let index = usize::try_from(hash % self.shards.len() as u64).unwrap_or(0);
        &self.shards[index]
    }

    /// Appends a message (durably, before this returns) and publishes it.
    ///
    /// # Errors
    /// The message's own failure, or the store's.
    pub async fn append(&self, message: NewMessage) -> Result<Appended, HistoryError> {
        self.submit(message).await?.await
    }

    /// Queues an append and returns at once with its answer to come: appends
    /// are committed in the order they are queued, so a caller that queues in
    /// order may have several in flight.
    ///
    /// # Errors
    /// The writer has stopped.
    pub async fn submit(
        &self,
        message: NewMessage,
    ) -> Result<impl std::future::Future<Output = Result<Appended, HistoryError>>, HistoryError>
    {
        let (reply, answer) = oneshot::channel();
        self.of(&message.room)
            .send(Write::Append(message, reply))
            .await
            .map_err(|_| gone())?;
        Ok(async move { answer.await.map_err(|_| gone())? })
    }

    /// Appends `messages` (of one room) in one transaction, in order, and
    /// publishes them like any message: all of them or, when the store
    /// fails, none.
    ///
    /// # Errors
    /// The store's failure; each message's own result otherwise.
    pub async fn import(&self, messages: Vec<NewMessage>) -> Result<Results, HistoryError> {
        let Some(first) = messages.first() else {
            return Ok(Vec::new());
        };
        if messages.iter().any(|m| m.room != first.room) {
            return Err(HistoryError::Failed(
                "an import holds the messages of one room".into(),
            ));
        }
        let writer = self.of(&first.room).clone();
        let (reply, answer) = oneshot::channel();
        writer
            .send(Write::Import(messages, reply))
            .await
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    /// Resets a room's history and tells its subscribers.
    ///
    /// # Errors
    /// When the room is unknown or the store fails.
    pub async fn reset(&self, room: RoomId) -> Result<RoomHead, HistoryError> {
        let (reply, answer) = oneshot::channel();
        self.of(&room)
            .send(Write::Reset(room, reply))
            .await
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

async fn run(history: Arc<dyn HistoryStore>, relay: Arc<Relay>, mut rx: mpsc::Receiver<Write>) {
    let mut next: Option<Write> = None;
    loop {
        let first = match next.take() {
            Some(write) => write,
            None => match rx.recv().await {
                Some(write) => write,
                None => return,
            },
        };
        match first {
            Write::Import(messages, reply) => {
                let result = history.append_many(messages).await;
                if let Ok(results) = &result {
                    for appended in results.iter().flatten() {
                        if !appended.duplicate {
                            relay.committed(&appended.message).await;
                        }
                    }
                }
                let _ = reply.send(result);
            }
            Write::Reset(room, reply) => {
                let result = history.reset(&room).await;
                if let Ok(head) = &result {
                    let frame = ServerFrame::Reset {
                        room: room.clone(),
                        epoch: head.epoch,
                    };
                    relay.frame(&room, frame.to_json()).await;
                }
                let _ = reply.send(result);
            }
            Write::Append(message, reply) => {
                let mut messages = vec![message];
                let mut replies = vec![reply];
                // Take what is already waiting; a reset ends the group so
                // that writes keep their order.
                while messages.len() < MAX_GROUP {
                    match rx.try_recv() {
                        Ok(Write::Append(message, reply)) => {
                            messages.push(message);
                            replies.push(reply);
                        }
                        Ok(other) => {
                            next = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                let metrics = crate::metrics::metrics();
                #[allow(clippy::cast_precision_loss)] // at most MAX_GROUP
                metrics
                    .hub_group_commit_messages
                    .observe(messages.len() as f64);
                let committing = std::time::Instant::now();
                let committed = history.append_many(messages).await;
                metrics
                    .hub_group_commit_seconds
                    .observe(committing.elapsed().as_secs_f64());
                match committed {
                    Ok(results) => {
                        for (result, reply) in results.into_iter().zip(replies) {
                            if let Ok(appended) = &result
                                && !appended.duplicate
                            {
                                relay.committed(&appended.message).await;
                            }
                            let _ = reply.send(result);
                        }
                    }
                    Err(err) => {
                        tracing::error!(error = %err, "group commit failed; nothing of it was stored");
                        metrics.hub_group_commit_failures.inc();
                        let reason = err.to_string();
                        for reply in replies {
                            let _ = reply.send(Err(HistoryError::Failed(reason.clone())));
                        }
                    }
                }
            }
        }
    }
}
