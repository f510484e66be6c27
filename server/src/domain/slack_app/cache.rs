//! What Slack told Herald recently, kept for a minute: a channel name's
//! ID, the bot's name, who a user is. Step 6 asks every few seconds and
//! every click needs the user; asking Slack each time would soon hit its
//! rate limits.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const LIFETIME: Duration = Duration::from_secs(60);
/// Past this many entries, the stale ones are dropped on the next put.
const TIDY_ABOVE: usize = 10_000;

pub struct Recent<K, V> {
    entries: Mutex<HashMap<K, (V, Instant)>>,
}

impl<K, V> Default for Recent<K, V> {
    fn default() -> Self {
        Recent { entries: Mutex::new(HashMap::new()) }
    }
}

impl<K: Eq + Hash, V: Clone> Recent<K, V> {
    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().expect("the cache lock");
        entries.get(key).filter(|(_, at)| at.elapsed() < LIFETIME).map(|(value, _)| value.clone())
    }

    pub fn put(&self, key: K, value: V) {
        let mut entries = self.entries.lock().expect("the cache lock");
        if entries.len() > TIDY_ABOVE {
            entries.retain(|_, (_, at)| at.elapsed() < LIFETIME);
        }
        entries.insert(key, (value, Instant::now()));
    }
}

/// The app's client ID, and a name within its workspace.
pub type AppKey = (String, String);

#[derive(Default)]
pub struct SlackCache {
    /// A channel's ID by its name.
    pub channels: Recent<AppKey, String>,
    /// The bot's handle, by the app's client ID.
    pub bot_names: Recent<String, String>,
    /// A Slack user, by their ID.
    pub users: Recent<AppKey, crate::slack::client::SlackUser>,
}
