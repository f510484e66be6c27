//! What people do with the alert message in Slack: the controls, the
//! Resolve and Boomerang modals, and the Boomerang reply. The route has
//! already verified the request and answered Slack; everything here may
//! take its time (it calls Slack).
//!
//! Action IDs (stable; in `herald_model::blocks::actions`): `alert.assign`,
//! `alert.status`, `alert.resolve`, `alert.details`, `alert.boomerang`,
//! `alert.view` (a link), and `boomerang.reply` in the question's DM.
//! Modal callback IDs: `alert.resolve`, `alert.boomerang`, `boomerang.answer`.

use herald_model::account::{Email, Permission, UserView};
use herald_model::alert::{AlertStatus, MAX_COMMENT_CHARS};
use herald_model::blocks::{actions, cut, cut_escaped, escape};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use std::sync::Arc;

use super::outbox::Outbox;
use super::slack_app::SlackApps;
use super::triage::{self, Actor, Triage};
use crate::slack::client::SlackUser;
use crate::store::{AssigneeRecord, Installation, SlackAppRecord, Store};

/// What answering people in Slack needs; cheap to clone into the task that
/// answers, after Slack has had its acknowledgement.
#[derive(Clone)]
pub struct Interactions {
    pub store: Arc<dyn Store>,
    pub apps: Arc<SlackApps>,
    pub outbox: Arc<Outbox>,
    /// Where the console is, for links back to an alert.
    pub public_url: url::Url,
    /// Whether guests of the workspace may act (HERALD_SLACK_ALLOW_GUESTS).
    pub allow_guests: bool,
}

impl Interactions {
    fn triage(&self) -> Triage<'_> {
        Triage { store: &*self.store, outbox: &self.outbox }
    }
}

pub const RESOLVE_VIEW: &str = "alert.resolve";
pub const BOOMERANG_VIEW: &str = "alert.boomerang";
pub const ANSWER_VIEW: &str = "boomerang.answer";
pub const BOOMERANG_REPLY: &str = "boomerang.reply";
/// A Boomerang question travels in the Reply button's value (≤ 2,000).
pub const MAX_QUESTION_CHARS: usize = 1_000;

/// What a modal carries from the click to its submission.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ModalContext {
    pub alert: String,
    /// Where to answer with ephemeral messages.
    #[serde(default)]
    pub channel: Option<String>,
    /// Boomerang: who asked, and the question.
    #[serde(default)]
    pub asker: Option<String>,
    #[serde(default)]
    pub question: Option<String>,
}

/// A click, already checked to carry what it needs.
#[derive(Debug, Clone)]
pub struct Click {
    pub user: String,
    pub channel: Option<String>,
    pub message_ts: Option<String>,
    pub trigger_id: String,
    pub action_id: String,
    pub alert_id: String,
    /// The status chosen, the user picked, or the button's value.
    pub value: Option<String>,
}

/// A modal submission, already checked.
#[derive(Debug, Clone)]
pub enum Submission {
    Resolve { user: String, context: ModalContext, comment: String },
    Boomerang { user: String, context: ModalContext, asked: String, question: String },
    Answer { user: String, context: ModalContext, answer: String },
}

/// Whether this interaction is new: it acts once, whichever replica or
/// connection a replay or a retry reaches. `key` is `request <signature>`
/// for https (the signature covers the request's time and body) or
/// `envelope <id>` for Socket Mode. Kept in the database with Slack's event
/// IDs, well past the 300 s a signed request is good for.
pub async fn first_time(store: &dyn Store, key: &str) -> Result<bool, super::error::Error> {
    Ok(store.record_slack_event(key.trim()).await?)
}

/// Reads a `block_actions` payload; `Err` says what is missing.
pub fn read_click(payload: &Value) -> Result<Click, String> {
    let action = payload["actions"].get(0).ok_or("the payload has no action")?;
    let action_id = action["action_id"].as_str().ok_or("the action has no action_id")?.to_owned();
    let user = payload["user"]["id"].as_str().ok_or("the payload has no user")?.to_owned();
    let value = action["selected_option"]["value"]
        .as_str()
        .or_else(|| action["selected_user"].as_str())
        .or_else(|| action["value"].as_str())
        .map(str::to_owned);
    let alert_id = match action_id.as_str() {
        BOOMERANG_REPLY => {
            let context: ModalContext =
                serde_json::from_str(value.as_deref().unwrap_or_default()).map_err(|_| "the reply button's value is not Herald's")?;
            context.alert
        }
        _ => action["block_id"]
            .as_str()
            .and_then(|b| b.strip_prefix("alert:").or_else(|| b.strip_prefix("boomerang:")))
            .or_else(|| action["value"].as_str())
            .ok_or("the action names no alert")?
            .to_owned(),
    };
    Ok(Click {
        user,
        channel: payload["channel"]["id"].as_str().or_else(|| payload["container"]["channel_id"].as_str()).map(str::to_owned),
        message_ts: payload["container"]["message_ts"].as_str().or_else(|| payload["message"]["ts"].as_str()).map(str::to_owned),
        trigger_id: payload["trigger_id"].as_str().unwrap_or_default().to_owned(),
        action_id,
        alert_id,
        value,
    })
}

/// Reads a `view_submission`: `Ok(Err(errors))` when the person must fix
/// the form (Slack shows the errors in the modal), `Err` when the payload
/// is not one of Herald's.
pub fn read_submission(payload: &Value) -> Result<Result<Submission, Value>, String> {
    let view = &payload["view"];
    let user = payload["user"]["id"].as_str().ok_or("the payload has no user")?.to_owned();
    let context: ModalContext =
        serde_json::from_str(view["private_metadata"].as_str().unwrap_or_default()).map_err(|_| "the modal is not Herald's")?;
    let values = &view["state"]["values"];
    let text = |block: &str| values[block][block]["value"].as_str().unwrap_or_default().trim().to_owned();
    let too_long = |text: &str, limit: usize| text.chars().count() > limit;
    match view["callback_id"].as_str() {
        Some(RESOLVE_VIEW) => {
            let comment = text("comment");
            if comment.is_empty() {
                return Ok(Err(json!({"comment": "Write what was found or done: it is kept with the alert."})));
            }
            if too_long(&comment, MAX_COMMENT_CHARS) {
                return Ok(Err(json!({"comment": format!("At most {MAX_COMMENT_CHARS} characters.")})));
            }
            Ok(Ok(Submission::Resolve { user, context, comment }))
        }
        Some(BOOMERANG_VIEW) => {
            let asked = values["who"]["who"]["selected_user"].as_str().unwrap_or_default().to_owned();
            let question = text("question");
            if asked.is_empty() {
                return Ok(Err(json!({"who": "Choose who to ask."})));
            }
            if question.is_empty() || too_long(&question, MAX_QUESTION_CHARS) {
                return Ok(Err(json!({"question": format!("Write a question of at most {MAX_QUESTION_CHARS} characters.")})));
            }
            // It travels in the Reply button's value (at most 2,000 characters as JSON).
            let carried =
                ModalContext { alert: context.alert.clone(), channel: None, asker: Some(user.clone()), question: Some(question.clone()) };
            if serde_json::to_string(&carried).map_or(usize::MAX, |j| j.chars().count()) > 2_000 {
                return Ok(Err(json!({"question": "Shorten the question (quotes and line breaks count extra)."})));
            }
            Ok(Ok(Submission::Boomerang { user, context, asked, question }))
        }
        Some(ANSWER_VIEW) => {
            let answer = text("answer");
            if answer.is_empty() || too_long(&answer, MAX_COMMENT_CHARS) {
                return Ok(Err(json!({"answer": format!("Write an answer of at most {MAX_COMMENT_CHARS} characters.")})));
            }
            Ok(Ok(Submission::Answer { user, context, answer }))
        }
        _ => Err("the modal is not one of Herald's".to_owned()),
    }
}

/// The app's bot token, for answering in Slack.
async fn token(state: &Interactions, app: &SlackAppRecord) -> Option<SecretString> {
    // A rotating token may have expired in Slack before Herald's clock
    // says so: asked once, and renewed, so the click is answered.
    let rotating = app.installation.as_ref().is_some_and(|i| i.refresh_token.is_some());
    let answer = if rotating {
        state
            .apps
            .renewing(app, |token| async move { state.apps.slack().auth_test(token.expose_secret()).await.map(|_| ()) })
            .await
            .map(|(token, _)| token)
    } else {
        state.apps.bot_token(app, None).await
    };
    match answer {
        Ok(token) => Some(token),
        Err(error) => {
            tracing::warn!(%error, "no bot token to answer an interaction with");
            None
        }
    }
}

/// Tells only `user` something, in `channel` (or their DM with the bot).
async fn tell(state: &Interactions, token: &str, channel: Option<&str>, user: &str, text: &str) {
    let result = match channel {
        Some(channel) => state.apps.slack().post_ephemeral(token, channel, user, text).await,
        None => {
            let body = serde_json::to_vec(&json!({"channel": user, "text": text})).expect("plain data serialises");
            state.apps.slack().post_message_once(token, body).await.map(|_| ())
        }
    };
    if let Err(error) = result {
        tracing::warn!(%error, "could not answer a Slack user");
    }
}

/// What Slack says of a user, remembered for a minute.
async fn slack_user(state: &Interactions, app: &SlackAppRecord, token: &str, user: &str) -> Result<SlackUser, String> {
    let key = (app.client_id.clone(), user.to_owned());
    if let Some(known) = state.apps.cache().users.get(&key) {
        return Ok(known);
    }
    let info = state.apps.slack().user_info(token, user).await.map_err(|e| format!("Slack could not say who you are ({e})."))?;
    state.apps.cache().users.put(key, info.clone());
    Ok(info)
}

/// Whether a Slack user may act as the Herald user with their email: a
/// person (not a bot, not deactivated) of the workspace or org the app is
/// installed in — not another organisation's member in a Slack Connect
/// channel — with a confirmed email, and not a guest unless guests are
/// allowed. Otherwise, why not, in words for them.
pub fn may_act(user: &SlackUser, installation: Option<&Installation>, allow_guests: bool) -> Result<(), String> {
    if user.is_bot {
        return Err("Bots cannot act on Herald's alerts.".into());
    }
    if user.deleted {
        return Err("This Slack account is deactivated.".into());
    }
    let ours =
        installation.is_some_and(|i| super::slack_app::installation::is_from(i, user.team_id.as_deref(), user.enterprise_id.as_deref()));
    if !ours {
        return Err("Only members of the workspace Herald is installed in can act on its alerts; a shared (Slack Connect) channel does not share Herald's permissions.".into());
    }
    if user.is_guest && !allow_guests {
        return Err("Guests of the workspace cannot act on Herald's alerts; an admin can allow it (HERALD_SLACK_ALLOW_GUESTS).".into());
    }
    if !user.is_email_confirmed {
        return Err("Slack has not confirmed your email address, so Herald cannot tell which Herald user you are; confirm it in Slack, then try again.".into());
    }
    Ok(())
}

/// The Herald user a Slack user is: one [`may_act`] allows, matched by
/// email without regard to (ASCII) case.
async fn herald_user(state: &Interactions, app: &SlackAppRecord, token: &str, user: &str) -> Result<(UserView, String), String> {
    let slack = slack_user(state, app, token, user).await?;
    may_act(&slack, app.installation.as_ref(), state.allow_guests)?;
    let Some(email) = slack.email else {
        return Err(
            "Herald cannot see your Slack email address (the app needs the users:read.email scope); ask an admin to reinstall it.".into()
        );
    };
    let found = match Email::parse("email", &email) {
        Ok(parsed) => state.store.user_by_email(&parsed).await.map_err(|error| {
            tracing::error!(%error, "could not look a Slack user's email up");
            "Herald could not look your account up just now; try again in a moment.".to_owned()
        })?,
        Err(_) => None,
    };
    match found {
        Some(record) if record.user.enabled => Ok((record.user, slack.name)),
        Some(_) => Err(format!("Your Herald account ({}) is disabled; ask an admin to enable it.", escape(&email))),
        None => Err(format!("Your Slack email {} matches no Herald user; ask an admin to add you.", escape(&email))),
    }
}

/// The acting Herald user, if they may do what `permission` covers;
/// otherwise the reason, already told to them.
async fn actor(
    state: &Interactions,
    app: &SlackAppRecord,
    token: &str,
    user: &str,
    channel: Option<&str>,
    permission: Permission,
) -> Option<Actor> {
    match herald_user(state, app, token, user).await {
        Ok((herald, _)) if herald.role.allows(permission) => Some(Actor::slack(&herald, user)),
        Ok((herald, _)) => {
            let text = format!(
                "You need the {} permission for this; your Herald role ({}) does not have it. Ask an admin.",
                permission.label(),
                herald.role.label()
            );
            tell(state, token, channel, user, &text).await;
            None
        }
        Err(reason) => {
            tell(state, token, channel, user, &reason).await;
            None
        }
    }
}

/// Handles a click on the alert message (or on a Boomerang question).
pub async fn click(state: Interactions, app: SlackAppRecord, click: Click) {
    let Some(secret) = token(&state, &app).await else { return };
    let token = secret.expose_secret();
    let channel = click.channel.as_deref();
    let alert = match state.store.alert(&click.alert_id).await {
        Ok(Some(alert)) => alert,
        Ok(None) => {
            tell(&state, token, channel, &click.user, "Herald has no such alert any more.").await;
            return;
        }
        Err(error) => {
            tracing::error!(%error, "reading an alert for Slack");
            return;
        }
    };
    let context = ModalContext { alert: alert.id.clone(), channel: click.channel.clone(), ..Default::default() };
    let result = match click.action_id.as_str() {
        actions::STATUS => {
            let Some(status) = click.value.as_deref().and_then(AlertStatus::parse) else { return };
            let Some(actor) = actor(&state, &app, token, &click.user, channel, Permission::ManageAlerts).await else { return };
            triage::set_status(state.triage(), &alert.id, &actor, status).await.map(|_| ())
        }
        actions::ASSIGN => {
            let Some(picked) = click.value.clone() else { return };
            let Some(actor) = actor(&state, &app, token, &click.user, channel, Permission::ManageAlerts).await else { return };
            match herald_user(&state, &app, token, &picked).await {
                Ok((user, _)) => {
                    let assignee = AssigneeRecord { user_id: Some(user.id), name: user.display_name, slack_id: Some(picked) };
                    triage::assign(state.triage(), &alert.id, &actor, Some(assignee)).await.map(|_| ())
                }
                Err(_) => {
                    let text = format!(
                        "<@{picked}> is not a Herald user (no Herald account has their Slack email), so the alert cannot be assigned to them."
                    );
                    tell(&state, token, channel, &click.user, &text).await;
                    return;
                }
            }
        }
        actions::RESOLVE | actions::BOOMERANG => {
            // Someone who may not change the alert is told before typing.
            // The trigger lasts 3 seconds: should Slack be slow to say who
            // clicked, the modal opens anyway and the submission is checked.
            let check = actor(&state, &app, token, &click.user, channel, Permission::ManageAlerts);
            if let Ok(None) = tokio::time::timeout(std::time::Duration::from_millis(1_500), check).await {
                return;
            }
            let view = if click.action_id == actions::RESOLVE {
                resolve_view(&alert.content.title, &context)
            } else {
                boomerang_view(&alert.content.title, &context)
            };
            open(&state, token, &click, view).await;
            return;
        }
        BOOMERANG_REPLY => {
            let context: ModalContext = serde_json::from_str(click.value.as_deref().unwrap_or_default()).unwrap_or_default();
            open(&state, token, &click, answer_view(&alert.content.title, &context)).await;
            return;
        }
        actions::DETAILS => {
            if actor(&state, &app, token, &click.user, channel, Permission::ViewAlerts).await.is_none() {
                return;
            }
            // Only to the one who asked: the channel may hold guests and
            // people Herald does not know.
            tell(&state, token, channel, &click.user, &details_text(&alert.alert_context)).await;
            return;
        }
        // "View in Herald" is a link; Slack still reports the click.
        _ => return,
    };
    if let Err(error) = result {
        tell(&state, token, channel, &click.user, &error.to_string()).await;
    }
}

/// Handles a submitted modal.
pub async fn submit(state: Interactions, app: SlackAppRecord, submission: Submission) {
    let Some(secret) = token(&state, &app).await else { return };
    let token = secret.expose_secret();
    let result = match &submission {
        Submission::Resolve { user, context, comment } => {
            let Some(actor) = actor(&state, &app, token, user, context.channel.as_deref(), Permission::ManageAlerts).await else { return };
            triage::resolve(state.triage(), &context.alert, &actor, comment).await.map(|_| ())
        }
        Submission::Boomerang { user, context, asked, question } => {
            let Some(actor) = actor(&state, &app, token, user, context.channel.as_deref(), Permission::ManageAlerts).await else { return };
            let asked_name = slack_user(&state, &app, token, asked).await.map(|u| u.name).unwrap_or_else(|_| asked.clone());
            let alert = match state.store.alert(&context.alert).await {
                Ok(Some(alert)) => alert,
                _ => {
                    tell(&state, token, context.channel.as_deref(), user, "Herald could not find the alert; the question was not sent.")
                        .await;
                    return;
                }
            };
            let reply_context =
                ModalContext { alert: alert.id.clone(), channel: None, asker: Some(user.clone()), question: Some(question.clone()) };
            let dm = question_dm(asked, user, &alert.content.title, question, &reply_context, &state.public_url);
            if let Err(error) = state.apps.slack().post_message_once(token, dm).await {
                tracing::warn!(%error, "could not send a Boomerang question");
                let text = format!("Herald could not send your question to <@{asked}> ({error}).");
                tell(&state, token, context.channel.as_deref(), user, &text).await;
                return;
            }
            triage::question(state.triage(), &alert.id, &actor, (asked, &asked_name), question).await.map(|_| ())
        }
        Submission::Answer { user, context, answer } => {
            // Whoever was asked may answer, Herald user or not.
            let actor = match herald_user(&state, &app, token, user).await {
                Ok((herald, _)) => Actor::slack(&herald, user),
                Err(_) => {
                    let name = slack_user(&state, &app, token, user).await.map(|u| u.name).unwrap_or_else(|_| user.clone());
                    Actor { user_id: None, name, slack_id: Some(user.clone()), source: herald_model::alert::ActivitySource::Slack }
                }
            };
            let question = context.question.clone().unwrap_or_default();
            triage::answer(state.triage(), &context.alert, &actor, &question, answer).await.map(|_| ())
        }
    };
    if let Err(error) = result {
        let (user, channel) = match &submission {
            Submission::Resolve { user, context, .. }
            | Submission::Boomerang { user, context, .. }
            | Submission::Answer { user, context, .. } => (user, context.channel.as_deref()),
        };
        tell(&state, token, channel, user, &error.to_string()).await;
    }
}

async fn open(state: &Interactions, token: &str, click: &Click, view: Value) {
    if let Err(error) = state.apps.slack().open_view(token, &click.trigger_id, &view).await {
        tracing::warn!(%error, "could not open a modal");
        let text = "Slack did not open the form in time; please click again.";
        tell(state, token, click.channel.as_deref(), &click.user, text).await;
    }
}

fn plain(text: &str, limit: usize) -> Value {
    json!({"type": "plain_text", "text": cut(text, limit), "emoji": true})
}

fn modal(callback_id: &str, title: &str, submit: &str, context: &ModalContext, blocks: Vec<Value>) -> Value {
    json!({
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, 24),
        "submit": plain(submit, 24),
        "close": plain("Cancel", 24),
        "private_metadata": serde_json::to_string(context).expect("plain data serialises"),
        "blocks": blocks,
    })
}

fn about(title: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "verbatim": true, "text": cut_escaped(&format!("*{}*", escape(title)), 3_000)}})
}

fn text_input(block: &str, label: &str, max: usize) -> Value {
    json!({
        "type": "input", "block_id": block, "label": plain(label, 2_000),
        "element": {"type": "plain_text_input", "action_id": block, "multiline": true, "max_length": max},
    })
}

fn resolve_view(title: &str, context: &ModalContext) -> Value {
    modal(
        RESOLVE_VIEW,
        "Resolve alert",
        "Resolve",
        context,
        vec![about(title), text_input("comment", "What was found or done?", MAX_COMMENT_CHARS)],
    )
}

fn boomerang_view(title: &str, context: &ModalContext) -> Value {
    let who = json!({
        "type": "input", "block_id": "who", "label": plain("Who should answer?", 2_000),
        "element": {"type": "users_select", "action_id": "who", "placeholder": plain("Choose a person", 150)},
    });
    modal(BOOMERANG_VIEW, "Boomerang", "Ask", context, vec![about(title), who, text_input("question", "Your question", MAX_QUESTION_CHARS)])
}

fn answer_view(title: &str, context: &ModalContext) -> Value {
    let question = context.question.as_deref().unwrap_or_default();
    let asked = json!({"type": "section", "text": {"type": "mrkdwn", "verbatim": true, "text": cut_escaped(&format!("> {}", escape(question)), 3_000)}});
    modal(ANSWER_VIEW, "Answer", "Send answer", context, vec![about(title), asked, text_input("answer", "Your answer", MAX_COMMENT_CHARS)])
}

/// The question, in a direct message to the person asked.
fn question_dm(asked: &str, asker: &str, title: &str, question: &str, context: &ModalContext, public_url: &url::Url) -> Vec<u8> {
    let text = format!("<@{asker}> asks you about the alert “{}”: {}", escape(title), escape(question));
    let link = super::alerts::message::herald_url(public_url, &context.alert);
    let value = serde_json::to_string(context).expect("plain data serialises");
    let body = json!({
        "channel": asked,
        "text": cut_escaped(&text, 3_000),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "verbatim": true, "text": cut_escaped(&text, 3_000)}},
            {"type": "actions", "block_id": format!("boomerang:{}", cut(&context.alert, 200)), "elements": [
                {"type": "button", "action_id": BOOMERANG_REPLY, "text": plain("Reply", 75), "value": value, "style": "primary"},
                {"type": "button", "action_id": actions::VIEW, "text": plain("View in Herald", 75), "url": link},
            ]},
        ],
        "unfurl_links": false,
    });
    serde_json::to_vec(&body).expect("plain data serialises")
}

/// The alert's context as pretty JSON in a code block, cut to fit.
fn details_text(context: &Option<String>) -> String {
    let Some(context) = context else { return "This alert has no context.".to_owned() };
    let pretty =
        serde_json::from_str::<Value>(context).ok().and_then(|v| serde_json::to_string_pretty(&v).ok()).unwrap_or_else(|| context.clone());
    // Inside ``` Slack still reads <…> and entities: escape, then cut so the
    // closing fence always fits.
    format!("*Alert context*\n```{}```", cut_escaped(&escape(&pretty), 2_900))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_escaped_and_fit_a_message() {
        let context = Some(json!({"actor": "<!channel>", "blob": "x".repeat(10_000)}).to_string());
        let text = details_text(&context);
        assert!(text.contains("&lt;!channel&gt;") && text.ends_with("…```"), "{}", &text[..200]);
        assert!(text.chars().count() <= 3_000);
        assert_eq!(details_text(&None), "This alert has no context.");
    }

    #[test]
    fn an_empty_resolution_comment_is_an_error_in_the_modal() {
        let view = resolve_view("t", &ModalContext { alert: "a1".into(), ..Default::default() });
        let mut payload = json!({"type": "view_submission", "user": {"id": "U1"}, "view": view});
        payload["view"]["state"] = json!({"values": {"comment": {"comment": {"value": "   "}}}});
        let errors = read_submission(&payload).unwrap().unwrap_err();
        assert!(errors["comment"].as_str().unwrap().contains("Write"));
        payload["view"]["state"] = json!({"values": {"comment": {"comment": {"value": "Rotated the key"}}}});
        assert!(matches!(read_submission(&payload).unwrap().unwrap(), Submission::Resolve { comment, .. } if comment == "Rotated the key"));
    }
}
