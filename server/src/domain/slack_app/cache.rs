//! What Herald learnt from Slack recently: a channel name's ID and the
//! bot's name, for a minute. Step 6 asks every few seconds; listing every
//! channel each time would soon hit Slack's rate limits.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const LIFETIME: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct SlackCache {
    entries: Mutex<HashMap<String, (String, Instant)>>,
}

impl SlackCache {
    pub fn get(&self, key: &str) -> Option<String> {
        let entries = self.entries.lock().expect("the cache lock");
        entries.get(key).filter(|(_, at)| at.elapsed() < LIFETIME).map(|(value, _)| value.clone())
    }

    pub fn put(&self, key: String, value: String) {
        let mut entries = self.entries.lock().expect("the cache lock");
        if entries.len() > 10_000 {
            entries.retain(|_, (_, at)| at.elapsed() < LIFETIME);
        }
        entries.insert(key, (value, Instant::now()));
    }
}
