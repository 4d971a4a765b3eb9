//! The hub's single writer: every append and reset goes through one task,
//! which takes all the writes waiting, commits them in one transaction (one
//! disk sync: group commit), then publishes the messages in commit order and
//! answers each caller. Acks stay durable while throughput follows the
//! batch size instead of the disk's sync latency; and with one writer,
//! subscribers see each room's seqs in order without any lock.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::protocol::ServerFrame;
use super::rooms::Rooms;
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

/// Handle to the writer task; the task ends when every handle is dropped.
#[derive(Debug, Clone)]
pub struct Writer {
    tx: mpsc::Sender<Write>,
}

fn gone() -> HistoryError {
    HistoryError::Failed("the history writer has stopped".into())
}

impl Writer {
    /// Starts the writer over `history`, publishing to `rooms`.
    pub fn start(history: Arc<dyn HistoryStore>, rooms: Arc<Rooms>) -> Self {
        let (tx, rx) = mpsc::channel(4 * MAX_GROUP);
        tokio::spawn(run(history, rooms, rx));
        Self { tx }
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
        self.tx
            .send(Write::Append(message, reply))
            .await
            .map_err(|_| gone())?;
        Ok(async move { answer.await.map_err(|_| gone())? })
    }

    /// Appends `messages` in one transaction, in order, and publishes them
    /// like any message: all of them or, when the store fails, none.
    ///
    /// # Errors
    /// The store's failure; each message's own result otherwise.
    pub async fn import(&self, messages: Vec<NewMessage>) -> Result<Results, HistoryError> {
        let (reply, answer) = oneshot::channel();
        self.tx
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
        self.tx
            .send(Write::Reset(room, reply))
            .await
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

async fn run(history: Arc<dyn HistoryStore>, rooms: Arc<Rooms>, mut rx: mpsc::Receiver<Write>) {
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
                            rooms.publish(&appended.message);
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
                    rooms.broadcast_frame(&room, &frame.to_json());
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
                match history.append_many(messages).await {
                    Ok(results) => {
                        for (result, reply) in results.into_iter().zip(replies) {
                            if let Ok(appended) = &result
                                && !appended.duplicate
                            {
                                rooms.publish(&appended.message);
                            }
                            let _ = reply.send(result);
                        }
                    }
                    Err(err) => {
                        tracing::error!(error = %err, "group commit failed; nothing of it was stored");
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
