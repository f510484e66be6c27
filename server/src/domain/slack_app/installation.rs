//! Which workspace (or Enterprise Grid org) an app is installed in, and
//! whether a request from Slack comes from there. Known from the OAuth
//! exchange, or from `auth.test` for a pasted token: whatever the install
//! path, a request from another team changes nothing.

use super::SlackApps;
use crate::slack::client::AuthTest;
use crate::store::{Installation, SlackAppRecord};
use secrecy::ExposeSecret as _;

/// The identity `auth.test` reports for a pasted bot token. A pasted token
/// does not rotate, and its scopes are not reported: those stay empty.
pub fn of_token(me: &AuthTest) -> Installation {
    Installation {
        // An org-wide token's `team_id` is the org's; it posts anywhere in it.
        team_id: if me.is_enterprise_install { None } else { me.team_id.clone() },
        team_name: me.team.clone(),
        enterprise_id: me.enterprise_id.clone(),
        is_enterprise_install: me.is_enterprise_install,
        bot_user_id: me.user_id.clone(),
        app_id: None,
        scopes: String::new(),
        refresh_token: None,
        token_expires_at: None,
    }
}

/// Whether a request naming `team_id` and `enterprise_id` comes from where
/// the app is installed: the org for an org-wide install, else the
/// workspace itself. Nothing named matches nothing.
pub fn is_from(installation: &Installation, team_id: Option<&str>, enterprise_id: Option<&str>) -> bool {
    let matches = |ours: &Option<String>, theirs: Option<&str>| ours.as_deref().is_some_and(|ours| theirs == Some(ours));
    if installation.is_enterprise_install {
        matches(&installation.enterprise_id, enterprise_id)
    } else {
        matches(&installation.team_id, team_id)
    }
}

impl SlackApps {
    /// The app's installation; for a token saved before Herald kept the
    /// identity, asked of Slack once and stored. `None`: unknown (no token,
    /// or Slack cannot say now), and requests are refused until it is known.
    pub async fn installation(&self, app: &SlackAppRecord) -> Option<Installation> {
        if let Some(installation) = &app.installation {
            return Some(installation.clone());
        }
        let sealed = app.bot_token.as_ref()?;
        let token = self.bot_token(app, None).await.ok()?;
        let me = match self.slack.auth_test(token.expose_secret()).await {
            Ok(me) => me,
            Err(error) => {
                tracing::warn!(slack.error = %error, "could not learn which workspace the app is installed in");
                return None;
            }
        };
        let installation = of_token(&me);
        if let Err(error) = self.store.save_installation(&app.client_id, sealed, &installation).await {
            tracing::error!(%error, "could not store the app's installation");
        }
        Some(installation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> Installation {
        of_token(&AuthTest {
            team_id: Some("T1".into()),
            team: Some("Acme".into()),
            user_id: "U0BOT".into(),
            user: None,
            bot_id: Some("B1".into()),
            enterprise_id: Some("E1".into()),
            is_enterprise_install: false,
        })
    }

    #[test]
    fn a_workspace_install_answers_only_its_own_workspace() {
        let ours = workspace();
        assert!(is_from(&ours, Some("T1"), None));
        assert!(is_from(&ours, Some("T1"), Some("E1")));
        assert!(!is_from(&ours, Some("T0EVIL001"), Some("E1")), "another workspace of the same org");
        assert!(!is_from(&ours, None, Some("T1")));
        assert!(!is_from(&ours, None, None));
    }

    #[test]
    fn an_org_wide_install_answers_its_org() {
        let mut ours = workspace();
        ours.is_enterprise_install = true;
        ours.team_id = None;
        assert!(is_from(&ours, Some("T9"), Some("E1")));
        assert!(!is_from(&ours, Some("T1"), Some("E2")));
        assert!(!is_from(&ours, Some("T1"), None));
    }
}
