//! Slack's side, knowing nothing of Herald's records or rules: the Web
//! API client, request signatures, what Slack's errors mean, and the app
//! manifest.

pub mod client;
pub mod explain;
pub mod manifest;
pub mod signature;
pub mod socket_mode;

/// Text for Slack's mrkdwn: only `&`, `<` and `>` are escaped, so user text
/// cannot mention `<!channel>` or forge links.
pub use herald_model::blocks::escape;

#[cfg(test)]
mod tests {
    #[test]
    fn mrkdwn_escaping_defuses_mentions_and_links() {
        assert_eq!(super::escape("<!channel> & <https://x|y>"), "&lt;!channel&gt; &amp; &lt;https://x|y&gt;");
    }
}
