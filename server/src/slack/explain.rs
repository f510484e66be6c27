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

/// Slack's answers to `apps.connections.open` that refuse the token itself
/// (not a passing failure).
pub fn refuses_app_token(code: &str) -> bool {
    matches!(code, "invalid_auth" | "not_authed" | "token_revoked" | "account_inactive" | "not_allowed_token_type" | "missing_scope")
}

/// Why Slack would not open a Socket Mode connection with an app-level
/// token (`apps.connections.open`), and what to do.
pub fn app_token_refused(code: &str) -> String {
    match code {
        "invalid_auth" | "not_authed" => {
            "Slack does not know this app-level token: copy it again from Basic Information → App-Level Tokens.".to_owned()
        }
        "token_revoked" | "account_inactive" => {
            "Slack has revoked this app-level token: create a new one under Basic Information → App-Level Tokens (scope connections:write) and save it.".to_owned()
        }
        "not_allowed_token_type" => {
            "This is not an app-level token: create one under Basic Information → App-Level Tokens; it starts with xapp-.".to_owned()
        }
        "missing_scope" => {
            "The app-level token lacks the scope connections:write: add it under Basic Information → App-Level Tokens, or create a new token with it.".to_owned()
        }
        other => format!("Slack would not open a Socket Mode connection (“{other}”)."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_app_level_token_says_where_to_get_a_good_one() {
        assert!(app_token_refused("token_revoked").contains("create a new one"));
        assert!(app_token_refused("missing_scope").contains("connections:write"));
        assert!(app_token_refused("invalid_auth").contains("App-Level Tokens"));
        assert!(refuses_app_token("token_revoked") && !refuses_app_token("ratelimited"));
    }

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
