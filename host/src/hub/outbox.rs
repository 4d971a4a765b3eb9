//! A connection's outbound queue and the batch windows.
//!
//! Chat messages wait in the queue for the batch window, so that they leave
//! as one `batch` frame; any other frame wakes the connection at once and
//! goes out after the messages queued before it. A connection is woken once
//! per batch, not once per message.
//!
//! Each connection flushes on its own clock: its windows end at ticks one
//! window apart, offset by a phase drawn from its id. A message waits at
//! most one window, and the connections of a busy room, which all receive
//! a message at the same instant, do not all flush at the same instant: the
//! server's and the clients' work is spread over the window instead of
//! arriving in one burst that the last connections wait behind. One task
//! ends every window, from a heap ordered by deadline.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::history::{RoomId, Seq};

/// A published message, serialised once and shared by every subscriber.
#[derive(Debug)]
pub struct Published {
    /// Its room.
    pub room: RoomId,
    /// Its seq (the connection skips what the client already has).
    pub seq: Seq,
    /// The message as JSON.
    pub json: String,
}

/// One item of a connection's outbound queue.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// A chat message, merged into `batch` frames.
    Message(Arc<Published>),
    /// Any other frame, sent as is, after the messages queued before it.
    Frame(Arc<str>),
}

#[derive(Debug, Default)]
struct Queue {
    items: VecDeque<Outbound>,
    /// Messages among `items`.
    messages: usize,
    /// A window is open for the messages queued (its end wakes the
    /// connection). A window that outlives its messages (sent early with a
    /// frame) ends at the same tick as the next one would, so it needs no
    /// bookkeeping of its own.
    window_open: bool,
}

/// The queue of one connection, bounded: a consumer that cannot keep up is
/// marked slow (and closed by its connection) instead of holding memory.
#[derive(Debug)]
pub struct Outbox {
    queue: Mutex<Queue>,
    ready: Notify,
    slow: AtomicBool,
    capacity: usize,
    windows: Arc<Windows>,
    /// Where this connection's ticks fall within a window.
    phase: Duration,
}

impl Outbox {
    /// An outbox holding at most `capacity` items, batched by `windows` on
    /// a clock offset by `phase` (see [`Windows::phase_of`]).
    pub fn new(capacity: usize, windows: Arc<Windows>, phase: Duration) -> Arc<Self> {
        Arc::new(Self {
            queue: Mutex::new(Queue::default()),
            ready: Notify::new(),
            slow: AtomicBool::new(false),
            capacity: capacity.max(1),
            windows,
            phase,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues an item without waiting; returns whether it was queued. A
    /// full queue marks the connection slow.
    pub fn push(self: &Arc<Self>, item: Outbound) -> bool {
        if self.slow.load(Ordering::Relaxed) {
            return false;
        }
        let mut queue = self.lock();
        if queue.items.len() >= self.capacity {
            drop(queue);
            self.mark_slow();
            return false;
        }
        let wake = match item {
            Outbound::Message(_) => {
                queue.messages += 1;
                let window = self.windows.window;
                if window.is_zero() || queue.messages >= self.windows.batch_max {
                    true
                } else {
                    if !queue.window_open {
                        queue.window_open = true;
                        self.windows.open(Arc::downgrade(self), self.phase);
                    }
                    false
                }
            }
            Outbound::Frame(_) => true,
        };
        queue.items.push_back(item);
        drop(queue);
        if wake {
            self.ready.notify_one();
        }
        true
    }

    /// Completes when there is something to send, or the queue overflowed.
    pub async fn ready(&self) {
        self.ready.notified().await;
    }

    /// Marks the connection slow as if its queue overflowed: it is closed
    /// with `4002` and its client syncs from its last seq.
    pub fn mark_slow(&self) {
        self.slow.store(true, Ordering::Relaxed);
        self.ready.notify_one();
    }

    /// Whether the queue overflowed.
    pub fn is_slow(&self) -> bool {
        self.slow.load(Ordering::Relaxed)
    }

    /// Takes everything queued, in order.
    pub fn take(&self) -> VecDeque<Outbound> {
        let mut queue = self.lock();
        queue.messages = 0;
        queue.window_open = false;
        std::mem::take(&mut queue.items)
    }

    /// A window of this outbox has ended.
    fn window_ended(&self) {
        let queue = self.lock();
        let due = queue.window_open;
        drop(queue);
        if due {
            self.ready.notify_one();
        }
    }
}

/// A window waiting to end.
#[derive(Debug)]
struct Due {
    at: Instant,
    outbox: Weak<Outbox>,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Due {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.at.cmp(&other.at)
    }
}

/// The batch windows of every connection, ended by one task.
#[derive(Debug)]
pub struct Windows {
    window: Duration,
    batch_max: usize,
    /// Ticks are counted from here.
    origin: Instant,
    due: Mutex<BinaryHeap<Reverse<Due>>>,
    wake: Notify,
}

impl Windows {
    /// Windows of `window` (zero: none, every message goes at once), cut
    /// short at `batch_max` messages; starts the task that ends them, which
    /// stops once the returned value is dropped. Needs a tokio runtime.
    pub fn start(window: Duration, batch_max: usize) -> Arc<Self> {
        let windows = Arc::new(Self {
            window,
            batch_max: batch_max.max(1),
            origin: Instant::now(),
            due: Mutex::new(BinaryHeap::new()),
            wake: Notify::new(),
        });
        if !window.is_zero() {
            tokio::spawn(end_windows(Arc::downgrade(&windows)));
        }
        windows
    }

    /// A phase for connection `id`: spread evenly (Fibonacci hashing) so
    /// that consecutive ids land far apart within the window.
    pub fn phase_of(&self, id: u64) -> Duration {
        let window = self.window.as_nanos().max(1);
        let spread = u128::from(id.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let nanos = spread.checked_mul(window).map_or(0, |n| n >> 64);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(0))
    }

    /// When a window opened now ends for a connection of `phase`: at its
    /// next tick, a whole window away if that tick is now.
    fn deadline(&self, now: Instant, phase: Duration) -> Instant {
        let window = self.window.as_nanos().max(1);
        let into = now.duration_since(self.origin).as_nanos() % window;
        let phase = phase.as_nanos() % window;
        let wait = match (phase + window - into) % window {
            0 => window,
            wait => wait,
        };
        now + Duration::from_nanos(u64::try_from(wait).unwrap_or(u64::MAX))
    }

    fn open(&self, outbox: Weak<Outbox>, phase: Duration) {
        let at = self.deadline(Instant::now(), phase);
        let mut due = self.due.lock().unwrap_or_else(PoisonError::into_inner);
        let earliest = due.peek().is_none_or(|Reverse(first)| at < first.at);
        due.push(Reverse(Due { at, outbox }));
        drop(due);
        if earliest {
            self.wake.notify_one();
        }
    }
}

async fn end_windows(windows: Weak<Windows>) {
    loop {
        let Some(this) = windows.upgrade() else {
            return;
        };
        let next = this
            .due
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .peek()
            .map(|Reverse(first)| first.at);
        match next {
            // Until a window opens (a hub that is gone opens none; the task
            // then idles holding an empty heap).
            None => {
                this.wake.notified().await;
                continue;
            }
            Some(at) => {
                // A window that ends sooner may open meanwhile.
                tokio::select! {
                    () = tokio::time::sleep_until(at) => {}
                    () = this.wake.notified() => continue,
                }
            }
        }
        let now = Instant::now();
        let ended: Vec<Weak<Outbox>> = {
            let mut due = this.due.lock().unwrap_or_else(PoisonError::into_inner);
            let mut ended = Vec::new();
            while due.peek().is_some_and(|Reverse(first)| first.at <= now) {
                if let Some(Reverse(first)) = due.pop() {
                    ended.push(first.outbox);
                }
            }
            ended
        };
        for outbox in ended {
            if let Some(outbox) = outbox.upgrade() {
                outbox.window_ended();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(seq: Seq) -> Outbound {
        Outbound::Message(Arc::new(Published {
            room: "room-1".parse().unwrap_or_else(|_| unreachable!()),
            seq,
            json: String::new(),
        }))
    }

    const WINDOW: Duration = Duration::from_millis(20);

    async fn woken_within(outbox: &Outbox, ms: u64) -> bool {
        tokio::time::timeout(Duration::from_millis(ms), outbox.ready())
            .await
            .is_ok()
    }

    #[tokio::test(start_paused = true)]
    async fn messages_wait_for_the_connections_tick_frames_do_not() {
        let windows = Windows::start(WINDOW, 100);
        // Phase 0: ticks at 0, 20, 40, ... ms from the start.
        let outbox = Outbox::new(10, windows.clone(), Duration::ZERO);
        assert!(outbox.push(message(1)));
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert!(outbox.push(message(2)));
        assert!(!woken_within(&outbox, 14).await, "woken before the tick");
        assert!(woken_within(&outbox, 2).await, "not woken at the tick");
        assert_eq!(outbox.take().len(), 2);

        // A frame goes at once and takes the waiting messages with it.
        tokio::time::sleep(Duration::from_millis(3)).await;
        assert!(outbox.push(message(3)));
        assert!(outbox.push(Outbound::Frame("{}".into())));
        assert!(
            woken_within(&outbox, 1).await,
            "a frame did not wake the connection"
        );
        assert_eq!(outbox.take().len(), 2);

        // A message at 34 ms waits for the tick at 40 ms, not a whole window.
        tokio::time::sleep(Duration::from_millis(11)).await;
        assert!(outbox.push(message(4)));
        assert!(!woken_within(&outbox, 5).await);
        assert!(woken_within(&outbox, 3).await);
        assert_eq!(outbox.take().len(), 1);
        drop(windows);
    }

    #[tokio::test(start_paused = true)]
    async fn connections_of_one_room_flush_at_their_own_ticks() {
        let windows = Windows::start(WINDOW, 100);
        let early = Outbox::new(10, windows.clone(), Duration::from_millis(5));
        let late = Outbox::new(10, windows.clone(), Duration::from_millis(15));
        assert!(early.push(message(1)));
        assert!(late.push(message(1)));
        assert!(woken_within(&early, 6).await);
        assert!(!woken_within(&late, 8).await);
        assert!(woken_within(&late, 3).await);
        // Phases spread ids over the window.
        let phases: std::collections::HashSet<u128> = (1..=100)
            .map(|id| windows.phase_of(id).as_millis())
            .collect();
        assert!(phases.len() >= 18, "{phases:?}");
        assert!(phases.iter().all(|ms| *ms < 20));
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_queue_marks_the_consumer_slow() {
        let outbox = Outbox::new(3, Windows::start(WINDOW, 100), Duration::ZERO);
        for seq in 1..=3 {
            assert!(outbox.push(message(seq)));
        }
        assert!(!outbox.is_slow());
        assert!(!outbox.push(message(4)));
        assert!(outbox.is_slow());
        assert!(
            woken_within(&outbox, 1).await,
            "the connection was not told"
        );
        assert!(!outbox.push(message(5)), "nothing more is queued");
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_batch_goes_before_its_window_ends() {
        let outbox = Outbox::new(10, Windows::start(WINDOW, 3), Duration::ZERO);
        for seq in 1..=3 {
            assert!(outbox.push(message(seq)));
        }
        assert!(
            woken_within(&outbox, 1).await,
            "a full batch did not wake the connection"
        );
    }
}
