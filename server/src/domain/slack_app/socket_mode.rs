//! How each Socket Mode app's connection to Slack is, as the receiver on
//! this replica last said: the API and the destinations page show it.

use std::collections::HashMap;
use std::sync::Mutex;

use herald_model::destination::{SocketModeState, SocketModeView};

#[derive(Debug, Default)]
pub struct Board {
    apps: Mutex<HashMap<String, SocketModeView>>,
}

impl Board {
    /// `client_id`'s connection is now in `state` (the time it changed is
    /// kept while the state stays).
    pub fn set(&self, client_id: &str, state: SocketModeState, reason: Option<String>, connections: u32) {
        let mut apps = self.apps.lock().expect("the board's lock is never poisoned");
        let since = match apps.get(client_id) {
            Some(view) if view.state == state => view.since.clone(),
            _ => jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap_or_else(|_| jiff::Timestamp::now()).to_string(),
        };
        apps.insert(client_id.to_owned(), SocketModeView { state, since, reason, connections });
    }

    /// The app has no app-level token (any more).
    pub fn remove(&self, client_id: &str) {
        self.apps.lock().expect("the board's lock is never poisoned").remove(client_id);
    }

    pub fn get(&self, client_id: &str) -> Option<SocketModeView> {
        self.apps.lock().expect("the board's lock is never poisoned").get(client_id).cloned()
    }
}
