//! The event bus: what changed, for editors (`GET /v1/events`) and logs.
//!
//! A broadcast channel: emitting never waits for anyone; a subscriber that
//! falls more than [`CAPACITY`] events behind is dropped. The last
//! [`RECENT`] events are kept so a new subscriber sees what just happened.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use skilld_proto::events::{Event, EventKind};
use tokio::sync::broadcast;

/// Events a subscriber may fall behind before it is dropped.
pub const CAPACITY: usize = 256;
/// Events kept for new subscribers.
pub const RECENT: usize = 100;

/// Cheap-to-clone handle on the bus.
#[derive(Debug, Clone)]
pub struct EventBus {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    tx: broadcast::Sender<Event>,
    recent: Mutex<VecDeque<Event>>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus::new()
    }
}

/// The current time, RFC 3339.
pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

impl EventBus {
    pub fn new() -> EventBus {
        let (tx, _) = broadcast::channel(CAPACITY);
        EventBus {
            inner: Arc::new(Inner {
                tx,
                recent: Mutex::new(VecDeque::with_capacity(RECENT)),
            }),
        }
    }

    /// A new event of `kind` stamped now, for the caller to fill in.
    pub fn event(kind: EventKind) -> Event {
        Event::new(kind, now())
    }

    /// Publish `event`; never blocks.
    pub fn emit(&self, event: Event) {
        tracing::debug!(kind = ?event.kind, skill = ?event.skill, "event");
        {
            let mut recent = self.inner.recent.lock().unwrap_or_else(|p| p.into_inner());
            if recent.len() == RECENT {
                recent.pop_front();
            }
            recent.push_back(event.clone());
        }
        // No subscriber is not an error.
        let _ = self.inner.tx.send(event);
    }

    /// The recent events, and a receiver for what comes next.
    pub fn subscribe(&self) -> (Vec<Event>, broadcast::Receiver<Event>) {
        let recent = self.inner.recent.lock().unwrap_or_else(|p| p.into_inner());
        // Subscribed under the lock: nothing falls between the two.
        let rx = self.inner.tx.subscribe();
        (recent.iter().cloned().collect(), rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn recent_then_live_and_slow_subscribers_lag() {
        let bus = EventBus::new();
        bus.emit(EventBus::event(EventKind::CheckStarted));
        let (recent, mut rx) = bus.subscribe();
        assert_eq!(recent.len(), 1);
        bus.emit(EventBus::event(EventKind::CheckFinished));
        assert_eq!(rx.recv().await.unwrap().kind, EventKind::CheckFinished);
        for _ in 0..(CAPACITY + 10) {
            bus.emit(EventBus::event(EventKind::Installed));
        }
        assert!(matches!(
            rx.recv().await,
            Err(broadcast::error::RecvError::Lagged(_))
        ));
        let (recent, _) = bus.subscribe();
        assert_eq!(recent.len(), RECENT, "the ring keeps the last events only");
    }
}
