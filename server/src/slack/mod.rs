//! Everything Slack: the app manifest now; the Web API client, OAuth,
//! signatures and interactivity as they arrive.

pub mod cache;
pub mod channel;
pub mod client;
pub mod explain;
pub mod installation;
pub mod interactions;
pub mod manifest;
pub mod signature;
pub mod tokens;

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
