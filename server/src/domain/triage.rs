//! Triage: an alert's status, assignee, comments and Boomerang questions,
//! changed from Slack or from Herald's console alike. Each change is one
//! transaction that records it in the alert's history and queues, through
//! the delivery outbox, the update of every Slack message of the alert and
//! a reply in each thread saying who did what.

use herald_model::account::UserView;
use herald_model::alert::{Activity, ActivityAction, ActivitySource, AlertStatus};
use herald_model::blocks::{Assignee, escape};
use secrecy::ExposeSecret as _;

use herald_model::api::FieldError;

use super::error::Error;
use super::outbox::Outbox;
use super::slack_app::SlackApps;
use crate::store::{AlertRecord, AssigneeRecord, Store, TriageChange};

/// What a change of an alert needs: where alerts are kept, and the outbox
/// that carries the change to Slack.
#[derive(Clone, Copy)]
pub struct Triage<'a> {
    pub store: &'a dyn Store,
    pub outbox: &'a Outbox,
}

/// Who made a change.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The Herald user; `None` for a Slack user who answers a Boomerang
    /// question without being one.
    pub user_id: Option<String>,
    pub name: String,
    /// When acting from Slack: their Slack user ID (replies mention them).
    pub slack_id: Option<String>,
    pub source: ActivitySource,
}

impl Actor {
    pub fn console(user: UserView) -> Actor {
        Actor { user_id: Some(user.id), name: user.display_name, slack_id: None, source: ActivitySource::Console }
    }

    pub fn slack(user: &UserView, slack_id: &str) -> Actor {
        Actor {
            user_id: Some(user.id.clone()),
            name: user.display_name.clone(),
            slack_id: Some(slack_id.to_owned()),
            source: ActivitySource::Slack,
        }
    }

    /// How a thread reply names them: a mention when from Slack.
    fn mention(&self) -> String {
        mention(self.slack_id.as_deref(), &self.name)
    }

    fn activity(&self, action: ActivityAction) -> Activity {
        Activity {
            actor_id: self.user_id.clone(),
            actor_name: self.name.clone(),
            source: self.source,
            action,
            old_value: None,
            new_value: None,
            comment: None,
        }
    }
}

/// `<@U…>` for a Slack user, else the name (escaped).
/// Whom `user_id` names as the alert's assignee (`""`: no one): an enabled
/// user, with their Slack ID when Slack finds their email within two
/// seconds (the message then mentions them; otherwise it shows the name).
pub async fn assignee(store: &dyn Store, apps: &SlackApps, user_id: &str) -> Result<Option<AssigneeRecord>, Error> {
    if user_id.is_empty() {
        return Ok(None);
    }
    let users = store.list_users().await?;
    let user = users
        .into_iter()
        .find(|u| u.id == user_id && u.enabled)
        .ok_or_else(|| FieldError::new("assigneeId", "No enabled user has this ID: GET /api/assignees lists them."))?;
    let slack_id = slack_id_of(store, apps, &user.email).await;
    Ok(Some(AssigneeRecord { user_id: Some(user.id), name: user.display_name, slack_id }))
}

/// The Slack user with this email in the workspace of the app destinations
/// use; `None` when Slack does not say soon.
async fn slack_id_of(store: &dyn Store, apps: &SlackApps, email: &str) -> Option<String> {
    let app = store.latest_slack_app().await.ok().flatten()?;
    let lookup = apps.renewing(&app, |token| async move { apps.slack().user_id_by_email(token.expose_secret(), email).await });
    match tokio::time::timeout(std::time::Duration::from_secs(2), lookup).await {
        Ok(Ok((_, Ok(found)))) => found,
        Ok(Ok((_, Err(error)))) => {
            tracing::info!(%error, "Slack could not look the assignee up by email");
            None
        }
        Ok(Err(_)) | Err(_) => None,
    }
}

pub fn mention(slack_id: Option<&str>, name: &str) -> String {
    Assignee { name, slack_id: slack_id.filter(|id| !id.is_empty()) }.mention()
}

async fn load(t: Triage<'_>, alert_id: &str) -> Result<AlertRecord, Error> {
    t.store.alert(alert_id).await?.ok_or_else(|| Error::NotFound("There is no alert with this ID.".to_owned()))
}

async fn apply(t: Triage<'_>, change: TriageChange) -> Result<AlertRecord, Error> {
    let Some(alert) = t.store.apply_triage(&change, super::time::now_ms()).await? else {
        // Someone else changed it first: theirs stands, as it is now.
        return load(t, &change.alert_id).await;
    };
    tracing::info!(alert.id = %change.alert_id, action = change.activity.action.as_str(), source = change.activity.source.as_str(), "alert changed");
    t.outbox.wake();
    Ok(alert)
}

/// Sets the status; the same status again changes nothing.
pub async fn set_status(t: Triage<'_>, alert_id: &str, actor: &Actor, status: AlertStatus) -> Result<AlertRecord, Error> {
    let before = load(t, alert_id).await?;
    if before.status == status {
        return Ok(before);
    }
    let reply = format!("{} changed the status from *{}* to *{}*", actor.mention(), before.status.label(), status.label());
    let activity = Activity {
        old_value: Some(before.status.label().to_owned()),
        new_value: Some(status.label().to_owned()),
        ..actor.activity(ActivityAction::Status)
    };
    let change = TriageChange {
        alert_id: alert_id.to_owned(),
        expected_status: Some(before.status),
        expected_assignee: None,
        status: Some(status),
        assignee: None,
        activity,
        update_messages: true,
        reply: Some(reply),
    };
    apply(t, change).await
}

/// Assigns the alert to someone, or to no one.
pub async fn assign(t: Triage<'_>, alert_id: &str, actor: &Actor, assignee: Option<AssigneeRecord>) -> Result<AlertRecord, Error> {
    let before = load(t, alert_id).await?;
    let same = match (&before.assignee, &assignee) {
        (None, None) => true,
        (Some(a), Some(b)) => a.user_id == b.user_id,
        _ => false,
    };
    if same {
        return Ok(before);
    }
    let reply = match &assignee {
        Some(a) => format!("{} assigned the alert to {}", actor.mention(), mention(a.slack_id.as_deref(), &a.name)),
        None => format!("{} took the assignment away", actor.mention()),
    };
    let activity = Activity {
        old_value: before.assignee.as_ref().map(|a| a.name.clone()),
        new_value: assignee.as_ref().map(|a| a.name.clone()),
        ..actor.activity(ActivityAction::Assign)
    };
    let change = TriageChange {
        alert_id: alert_id.to_owned(),
        expected_status: None,
        expected_assignee: Some(before.assignee.as_ref().and_then(|a| a.user_id.clone())),
        status: None,
        assignee: Some(assignee),
        activity,
        update_messages: true,
        reply: Some(reply),
    };
    apply(t, change).await
}

/// Resolves the alert with a comment saying what was done.
pub async fn resolve(t: Triage<'_>, alert_id: &str, actor: &Actor, comment: &str) -> Result<AlertRecord, Error> {
    let before = load(t, alert_id).await?;
    let reply = format!("{} resolved the alert: {}", actor.mention(), escape(comment));
    let activity = Activity {
        old_value: Some(before.status.label().to_owned()),
        new_value: Some(AlertStatus::Resolved.label().to_owned()),
        comment: Some(comment.to_owned()),
        ..actor.activity(ActivityAction::Resolve)
    };
    let change = TriageChange {
        alert_id: alert_id.to_owned(),
        expected_status: None,
        expected_assignee: None,
        status: Some(AlertStatus::Resolved),
        assignee: None,
        activity,
        update_messages: before.status != AlertStatus::Resolved,
        reply: Some(reply),
    };
    apply(t, change).await
}

/// A change that only adds to the history and the threads.
fn note(alert_id: &str, activity: Activity, reply: String) -> TriageChange {
    TriageChange {
        alert_id: alert_id.to_owned(),
        expected_status: None,
        expected_assignee: None,
        status: None,
        assignee: None,
        activity,
        update_messages: false,
        reply: Some(reply),
    }
}

/// A comment in the alert's history and threads.
pub async fn comment(t: Triage<'_>, alert_id: &str, actor: &Actor, comment: &str) -> Result<AlertRecord, Error> {
    load(t, alert_id).await?;
    let reply = format!("{} commented: {}", actor.mention(), escape(comment));
    let activity = Activity { comment: Some(comment.to_owned()), ..actor.activity(ActivityAction::Comment) };
    apply(t, note(alert_id, activity, reply)).await
}

/// A Boomerang question to someone (`asked`: their Slack ID and name).
pub async fn question(t: Triage<'_>, alert_id: &str, actor: &Actor, asked: (&str, &str), question: &str) -> Result<AlertRecord, Error> {
    load(t, alert_id).await?;
    let reply = format!("{} asked {}: {}", actor.mention(), mention(Some(asked.0), asked.1), escape(question));
    let activity =
        Activity { new_value: Some(asked.1.to_owned()), comment: Some(question.to_owned()), ..actor.activity(ActivityAction::Question) };
    apply(t, note(alert_id, activity, reply)).await
}

/// The answer to a Boomerang question.
pub async fn answer(t: Triage<'_>, alert_id: &str, actor: &Actor, question: &str, answer: &str) -> Result<AlertRecord, Error> {
    load(t, alert_id).await?;
    let reply = format!("{} answered “{}”: {}", actor.mention(), escape(question), escape(answer));
    let activity =
        Activity { old_value: Some(question.to_owned()), comment: Some(answer.to_owned()), ..actor.activity(ActivityAction::Answer) };
    apply(t, note(alert_id, activity, reply)).await
}
