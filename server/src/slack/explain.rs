//! Slack's error codes, told as what happened and how to fix it.

use super::client::SlackError;

/// The sentence an operator sees when a call about `channel` (`#name` or an
/// ID) fails; `bot` is the bot's handle without `@`.
pub fn explain(error: &SlackError, channel: &str, bot: &str) -> String {
    match error {
        SlackError::Api(code) => match code.as_str() {
            "not_in_channel" => format!("The bot is not in {channel} yet: type /invite @{bot} there, then try again."),
            "channel_not_found" => {
                format!("Slack cannot find {channel}: check the name or use the channel ID (private channels need the bot invited first).")
            }
            "is_archived" => format!("{channel} is archived: unarchive it in Slack, or pick another channel."),
            "invalid_auth" | "not_authed" | "token_revoked" | "account_inactive" => format!(
                "Slack no longer accepts the bot token ({code}): reinstall the app to the workspace and save the new Bot User OAuth Token."
            ),
            "token_expired" => "The bot token has expired: reinstall the app, or turn token rotation off and save a new token.".to_owned(),
            "missing_scope" => {
                "The Slack app lacks a permission Herald needs: update the app from Herald's manifest and reinstall it.".to_owned()
            }
            "team_not_found" => format!(
                "An Enterprise Grid org-wide install posts by channel ID: use the ID of {channel} (in Slack: channel details → About)."
            ),
            "msg_too_long" | "invalid_blocks" | "msg_blocks_too_long" => {
                "Slack refused the message's format; this is Herald's fault, please report it.".to_owned()
            }
            other => format!("Slack answered “{other}”."),
        },
        SlackError::RateLimited(wait) => {
            format!("Slack is limiting how often Herald may call it; try again in {} seconds.", wait.as_secs().max(1))
        }
        SlackError::Status(status) => format!("Slack answered HTTP {status}; it may be having trouble, try again in a minute."),
        SlackError::Transport(reason) => {
            format!("Herald could not reach Slack ({reason}): check the server's network and HERALD_SLACK_API_URL.")
        }
        SlackError::Decode => "Slack's answer could not be read; try again in a minute.".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_common_error_says_how_to_fix_it() {
        let say = |code: &str| explain(&SlackError::Api(code.into()), "#sec-alerts", "herald");
        assert!(say("not_in_channel").contains("/invite @herald"));
        assert!(say("channel_not_found").contains("use the channel ID"));
        assert!(say("is_archived").contains("archived"));
        for revoked in ["invalid_auth", "token_revoked", "account_inactive", "not_authed"] {
            assert!(say(revoked).contains("reinstall the app"), "{revoked}");
        }
        assert!(say("missing_scope").contains("update the app from Herald's manifest and reinstall"));
        assert!(say("team_not_found").contains("channel ID"));
        assert!(say("fatal_error").contains("fatal_error"));
    }
}
