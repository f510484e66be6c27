//! Alert destinations: drafts that follow the setup wizard, settings
//! checked by the model's rules (and the time zone database), secrets
//! sealed before they are stored and shown only as hints.

pub mod channel;
mod mentions;

use herald_model::api::FieldError;
use herald_model::destination::{
    AlertKind, AppCredentials, DEFAULT_DEDUP_WINDOW, DestinationKind, DestinationSettings, DestinationStatus, DraftUpdate,
    MAX_DEDUP_WINDOW, Severity, SlackBotForm, StoredSecrets, ValidSlackBot, WIZARD_STEPS, parse_app_token, parse_client_id,
    parse_hex_secret,
};

use herald_model::mention::{MAX_MENTIONS, Mentions};

use super::error::Error;
use super::slack_app::SlackApps;
use crate::store::{DestinationRecord, SlackAppRecord, Store};

/// A destination and the Slack app it uses, as the API shows them together
/// (`http/views.rs`).
pub struct Destination {
    pub record: DestinationRecord,
    pub app: Option<SlackAppRecord>,
}

/// The destination and the Slack app it uses, if one is stored.
pub async fn load(store: &dyn Store, id: &str) -> Result<(DestinationRecord, Option<SlackAppRecord>), Error> {
    let record = store.destination(id).await?.ok_or_else(not_found)?;
    let client_id = &record.settings.client_id;
    let app = if client_id.is_empty() { None } else { store.slack_app(client_id).await? };
    Ok((record, app))
}

fn not_found() -> Error {
    Error::NotFound("There is no such destination.".to_owned())
}

pub async fn get(store: &dyn Store, id: &str) -> Result<Destination, Error> {
    let (record, app) = load(store, id).await?;
    Ok(Destination { record, app })
}

/// A new draft. When a Slack app is stored already, the draft uses it:
/// later destinations need only a name and a channel.
pub async fn create(store: &dyn Store, kind: DestinationKind) -> Result<Destination, Error> {
    let app = store.latest_slack_app().await?;
    // The team's time zone is most likely the one its first destination uses.
    let timezone = store
        .list_destinations()
        .await?
        .into_iter()
        .filter(|d| d.status != DestinationStatus::Draft)
        .min_by(|a, b| a.created_at.cmp(&b.created_at))
        .map_or_else(|| "UTC".to_owned(), |d| d.settings.timezone);
    let settings = DestinationSettings {
        client_id: app.as_ref().map(|a| a.client_id.clone()).unwrap_or_default(),
        severities: vec![Severity::Medium, Severity::High, Severity::Critical],
        alert_kinds: AlertKind::ALL.to_vec(),
        timezone,
        ..DestinationSettings::default()
    };
    let record = store.create_destination(kind, &settings, DEFAULT_DEDUP_WINDOW).await?;
    Ok(Destination { record, app })
}

/// Longest value a draft keeps for any one text field.
const DRAFT_FIELD_MAX: usize = 1000;

/// Whether typed text looks like a Slack token or a 32-hex secret: such a
/// value pasted into the wrong field must not be kept in clear.
fn looks_secret(value: &str) -> bool {
    let value = value.trim();
    let token = ["xoxb-", "xoxp-", "xoxe", "xoxa-", "xapp-"].iter().any(|p| value.starts_with(p));
    token || (value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A draft's settings as typed (capped in length, never a secret) and its
/// deduplication window; handles of groups the draft knows keep their IDs.
fn draft_settings(form: &SlackBotForm, before: &DestinationSettings) -> Result<(DestinationSettings, u32), Error> {
    let mut form = form.clone();
    form.keep_left_out(before);
    let typed = &form.settings;
    let text_fields =
        [("displayName", &typed.display_name), ("channel", &typed.channel), ("clientId", &typed.client_id), ("timezone", &typed.timezone)];
    let all = text_fields.into_iter().chain(typed.log_types.iter().map(|t| ("logTypes", t)));
    let mut problems = Vec::new();
    for (field, value) in all {
        if value.chars().count() > DRAFT_FIELD_MAX {
            problems.push(FieldError::new(field, format!("At most {DRAFT_FIELD_MAX} characters.")));
        } else if looks_secret(value) {
            problems.push(FieldError::new(field, "This looks like a secret: it belongs in its own field, not here."));
        }
    }
    if !problems.is_empty() {
        return Err(Error::invalid(problems));
    }
    let mut mentions = typed.mentions.clone();
    mentions.reuse_groups(&before.mentions);
    // Too many for one severity: the draft keeps the first ten (saving
    // the settings says why).
    let mentions = mentions.validate().unwrap_or_else(|_| {
        Mentions::from_lists(mentions.lists().map(|(severity, list)| (severity, list.iter().take(MAX_MENTIONS).cloned().collect())))
    });
    // As typed, less NUL characters (which PostgreSQL cannot hold): the
    // checks that finish a setup refuse them with the field named.
    let plain = herald_model::text::without_nul;
    let settings = DestinationSettings {
        display_name: plain(&typed.display_name),
        channel: plain(&typed.channel),
        client_id: plain(typed.client_id.trim()),
        severities: typed.severities.clone(),
        alert_kinds: typed.alert_kinds.clone(),
        log_types: typed.log_types.iter().map(|t| plain(t)).collect(),
        timezone: plain(&typed.timezone),
        mentions,
        remind_after: typed.remind_after.min(herald_model::destination::MAX_REMIND_AFTER),
        remind_times: typed.remind_times.clamp(1, herald_model::destination::MAX_REMIND_TIMES),
    };
    Ok((settings, form.dedup_window.unwrap_or(DEFAULT_DEDUP_WINDOW).min(MAX_DEDUP_WINDOW)))
}

/// Saves a draft's progress as typed; secrets are never saved this way,
/// and a destination whose setup is finished refuses (409).
pub async fn save_draft(store: &dyn Store, id: &str, update: DraftUpdate) -> Result<Destination, Error> {
    if !(1..=WIZARD_STEPS).contains(&update.step) {
        return Err(Error::invalid(vec![FieldError::new("step", format!("The step is 1 to {WIZARD_STEPS}."))]));
    }
    let (before, _) = load(store, id).await?;
    let (settings, dedup_window) = draft_settings(&update.form, &before.settings)?;
    let record = store.save_draft(id, &settings, dedup_window, update.step).await?;
    let app = store.slack_app(&record.settings.client_id).await?;
    Ok(Destination { record, app })
}

/// Saves a draft's Client ID and the app secrets given, ahead of the rest
/// of the form: Add to Slack needs them to exchange its code.
pub async fn save_credentials(store: &dyn Store, apps: &SlackApps, id: &str, credentials: AppCredentials) -> Result<Destination, Error> {
    let client_id = parse_client_id("clientId", &credentials.client_id)?;
    let given = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let mut errors = Vec::new();
    let mut parse = |field: &'static str, label: &str, value: Option<String>| {
        value.and_then(|v| parse_hex_secret(field, label, &v).map_err(|e| errors.push(e)).ok())
    };
    let client_secret = parse("clientSecret", "Client Secret", given(&credentials.client_secret));
    let signing_secret = parse("signingSecret", "Signing Secret", given(&credentials.signing_secret));
    let app_token = given(&credentials.app_token).and_then(|v| parse_app_token("appToken", &v).map_err(|e| errors.push(e)).ok());
    if !errors.is_empty() {
        return Err(Error::invalid(errors));
    }
    if let Some(token) = &app_token {
        check_app_token_with_slack(apps, token).await?;
    }
    let (record, _) = load(store, id).await?;
    let settings = DestinationSettings { client_id: client_id.clone(), ..record.settings };
    let record = store.save_draft(id, &settings, record.dedup_window, record.wizard_step).await?;
    let secrets = apps.seal_secrets(&client_id, [client_secret.as_deref(), signing_secret.as_deref(), None, app_token.as_deref()]);
    let app = store.upsert_slack_app(&client_id, &secrets).await?;
    if app_token.is_some() {
        apps.app_tokens_changed();
    }
    Ok(Destination { record, app: Some(app) })
}

/// Takes the destination's Slack app out of Socket Mode: its app-level
/// token is forgotten and its connection closed. Slack's requests then
/// come over https, checked with the signing secret, which must be saved
/// first (without either, nothing Slack sends could be trusted).
pub async fn leave_socket_mode(store: &dyn Store, apps: &SlackApps, id: &str) -> Result<Destination, Error> {
    let (record, app) = load(store, id).await?;
    let Some(app) = app.filter(|a| a.app_token.is_some()) else {
        return Err(FieldError::new("appToken", "This destination's Slack app does not use Socket Mode.").into());
    };
    if app.signing_secret.is_none() {
        return Err(FieldError::new(
            "signingSecret",
            "Save the app's Signing Secret first (Basic Information → App Credentials): over https, Slack's requests are checked with it.",
        )
        .into());
    }
    let app = store.forget_app_token(&app.client_id).await?;
    // The receiver closes the connection when it hears; the view already says it.
    apps.socket_mode().remove(&record.settings.client_id);
    apps.app_tokens_changed();
    tracing::info!(destination.id = %record.id, "the Slack app left Socket Mode");
    Ok(Destination { record, app })
}

/// Every rule the settings must pass: the model's, and the time zone
/// database's.
fn check(form: &SlackBotForm, stored: StoredSecrets) -> Result<ValidSlackBot, Vec<FieldError>> {
    let mut errors = form.validate(stored).err().unwrap_or_default();
    let zone = form.settings.timezone.trim();
    if !zone.is_empty() && jiff::tz::TimeZone::get(zone).is_err() {
        errors.push(FieldError::new("timezone", format!("{zone:?} is not a time zone Herald knows: pick one from the list.")));
    }
    if errors.is_empty() { form.validate(stored) } else { Err(errors) }
}

/// Why an org-wide install needs a channel ID.
pub const ORG_WIDE_NEEDS_ID: &str = "The app is installed org-wide (Enterprise Grid), where Slack needs the channel ID, like C0123ABCD: find it under the channel's details → About.";

/// [`check`], and what the app's installation adds: an org-wide
/// (Enterprise Grid) install posts by channel ID only. Every path to an
/// active destination (save, finish, enable) goes through here.
fn check_with_app(form: &SlackBotForm, stored: StoredSecrets, app: Option<&SlackAppRecord>) -> Result<ValidSlackBot, Vec<FieldError>> {
    let checked = check(form, stored);
    let org_wide = app.and_then(|a| a.installation.as_ref()).is_some_and(|i| i.is_enterprise_install);
    if !org_wide || herald_model::destination::looks_like_channel_id(form.settings.channel.trim()) {
        return checked;
    }
    let mut errors = checked.err().unwrap_or_default();
    errors.retain(|e| e.field != "channel");
    errors.push(FieldError::new("channel", ORG_WIDE_NEEDS_ID));
    Err(errors)
}

/// The stored settings as the form that judges them (secrets aside: those
/// are judged by what is stored, [`stored_secrets`]).
fn form_of(record: &DestinationRecord) -> SlackBotForm {
    SlackBotForm { settings: record.settings.clone(), dedup_window: Some(record.dedup_window), ..SlackBotForm::default() }
}

/// [`check_with_app`] for stored settings (finish, enable), which must also
/// name every user group by ID: a handle left from a draft's autosave
/// would notify nobody (saving the settings looks it up).
fn check_stored(record: &DestinationRecord, app: Option<&SlackAppRecord>) -> Result<ValidSlackBot, Vec<FieldError>> {
    let checked = check_with_app(&form_of(record), stored_secrets(app), app);
    match (checked, record.settings.mentions.unresolved()) {
        (checked, None) => checked,
        (Ok(_), Some(error)) => Err(vec![error]),
        (Err(mut errors), Some(error)) => {
            errors.push(error);
            Err(errors)
        }
    }
}

fn stored_secrets(app: Option<&SlackAppRecord>) -> StoredSecrets {
    app.map_or_else(StoredSecrets::default, |a| StoredSecrets {
        client_secret: a.client_secret.is_some(),
        signing_secret: a.signing_secret.is_some(),
        bot_token: a.bot_token.is_some(),
        app_token: a.app_token.is_some(),
    })
}

/// Saves the settings once every field passes. Nothing is written when one
/// fails, except that a draft keeps its non-secret values as typed (so a
/// reload shows them); the secrets stay in the form until the save works.
pub async fn save_settings(store: &dyn Store, apps: &SlackApps, id: &str, mut form: SlackBotForm) -> Result<Destination, Error> {
    let (record, _) = load(store, id).await?;
    // A body from a client older than these settings keeps them.
    form.keep_left_out(&record.settings);
    let (existing, judged) = match parse_client_id("clientId", &form.settings.client_id) {
        Ok(client_id) => {
            let app = store.slack_app(&client_id).await?;
            let stored = stored_secrets(app.as_ref());
            (app, stored)
        }
        // A Client ID that is not one at all (a typo) is the one error to
        // fix: the secrets left empty are not also asked for, as if for a
        // new app, while the form says they are saved. Once the ID is
        // right, they are judged against that app.
        Err(_) => (None, StoredSecrets { client_secret: true, signing_secret: true, bot_token: true, app_token: false }),
    };
    let checked = check_with_app(&form, judged, existing.as_ref());
    let mut valid = match checked {
        Ok(valid) => valid,
        Err(errors) => {
            if record.status == DestinationStatus::Draft
                && let Ok((settings, dedup_window)) = draft_settings(&form, &record.settings)
            {
                store.save_draft(id, &settings, dedup_window, record.wizard_step).await?;
            }
            return Err(Error::invalid(errors));
        }
    };
    let pasted = match &valid.bot_token {
        Some(token) => Some(check_token_with_slack(apps, token).await?),
        None => None,
    };
    if let Some(token) = &valid.app_token {
        check_app_token_with_slack(apps, token).await?;
    }
    mentions::look_up(apps, existing.as_ref(), valid.bot_token.as_deref(), &record.settings.mentions, &mut valid.settings.mentions).await?;
    let mut app = store_secrets(store, apps, &valid).await?;
    // A pasted token names its workspace: requests from any other are
    // refused, as after an OAuth install (whose identity it replaces).
    if let (Some(me), Some(stored)) = (pasted, app.as_ref()) {
        let token = stored.bot_token.as_ref().ok_or_else(|| Error::broken("the token just stored is missing"))?;
        let installation = super::slack_app::installation::of_token(&me);
        app = Some(store.save_installation(&stored.client_id, token, &installation).await?);
        apps.tokens_changed();
    }
    let dedup_window = valid.dedup_window.unwrap_or(record.dedup_window);
    // A draft moves on to inviting the bot (step 6).
    let step = (record.status == DestinationStatus::Draft).then_some(6);
    let record = store.update_destination(id, &valid.settings, dedup_window, step).await?;
    tracing::info!(destination.id = %record.id, "destination settings saved");
    Ok(Destination { record, app })
}

/// Asks Slack (`auth.test`) whether a pasted token works, and where it is
/// installed: a bad token is a field error, never a silent save.
async fn check_token_with_slack(apps: &SlackApps, token: &str) -> Result<crate::slack::client::AuthTest, Error> {
    use crate::slack::client::SlackError;
    let message = match apps.slack().auth_test(token).await {
        Ok(me) => return Ok(me),
        Err(SlackError::Api(code)) => match code.as_str() {
            "invalid_auth" | "not_authed" => {
                "Slack does not know this token: copy the Bot User OAuth Token again (OAuth & Permissions).".to_owned()
            }
            "token_revoked" | "account_inactive" => {
                "Slack has revoked this token: reinstall the app, then copy the new Bot User OAuth Token.".to_owned()
            }
            "token_expired" => "This token has expired: reinstall the app and copy the new token.".to_owned(),
            other => format!("Slack refused this token ({other})."),
        },
        Err(other) => {
            // The transport's own words stay in the log: they can name
            // internal hosts and proxies.
            tracing::warn!(slack.error = %other, "could not check a pasted token with Slack");
            "Herald could not reach Slack to check this token; nothing was saved. Check the server's network and HERALD_SLACK_API_URL (the server log has the details).".to_owned()
        }
    };
    Err(Error::invalid(vec![FieldError::new("botToken", message)]))
}

/// Asks Slack (`apps.connections.open`) whether a pasted app-level token
/// may open Socket Mode connections. The URL it gives is not used: the
/// receiver asks for its own.
async fn check_app_token_with_slack(apps: &SlackApps, token: &str) -> Result<(), Error> {
    use crate::slack::client::SlackError;
    let message = match apps.slack().open_connection(token).await {
        Ok(_) => return Ok(()),
        Err(SlackError::Api(code)) => crate::slack::explain::app_token_refused(&code),
        Err(other) => {
            tracing::warn!(slack.error = %other, "could not check a pasted app-level token with Slack");
            "Herald could not reach Slack to check this token; nothing was saved. Check the server's network and HERALD_SLACK_API_URL (the server log has the details).".to_owned()
        }
    };
    Err(Error::invalid(vec![FieldError::new("appToken", message)]))
}

/// Seals and stores the secrets the settings carry, keeping the others.
async fn store_secrets(store: &dyn Store, apps: &SlackApps, valid: &ValidSlackBot) -> Result<Option<SlackAppRecord>, Error> {
    let client_id = valid.settings.client_id.as_str();
    let given = [valid.client_secret.as_deref(), valid.signing_secret.as_deref(), valid.bot_token.as_deref(), valid.app_token.as_deref()];
    if given.iter().all(Option::is_none) {
        return Ok(store.slack_app(client_id).await?);
    }
    let app = store.upsert_slack_app(client_id, &apps.seal_secrets(client_id, given)).await?;
    if valid.app_token.is_some() {
        apps.app_tokens_changed();
    }
    Ok(Some(app))
}

/// Ends setup: the destination becomes active if its settings pass every
/// rule and the Slack app's secrets are stored.
pub async fn finish(store: &dyn Store, id: &str) -> Result<Destination, Error> {
    let (record, app) = load(store, id).await?;
    if let Err(errors) = check_stored(&record, app.as_ref()) {
        let first = errors[0].message.clone();
        return Err(Error::invalid(errors).with_message(format!("Setup is not complete yet: {first}")));
    }
    let record = match record.status {
        DestinationStatus::Draft => store.set_destination_status(id, DestinationStatus::Active).await?,
        _ => record,
    };
    tracing::info!(destination.id = %record.id, "destination set up");
    Ok(Destination { record, app })
}

/// Switches a finished destination on or off.
pub async fn set_enabled(store: &dyn Store, id: &str, enabled: bool) -> Result<Destination, Error> {
    let (record, app) = load(store, id).await?;
    if record.status == DestinationStatus::Draft {
        return Err(Error::SetupIncomplete);
    }
    if enabled && let Err(errors) = check_stored(&record, app.as_ref()) {
        let first = errors[0].message.clone();
        return Err(Error::invalid(errors).with_message(format!("Edit the destination first: {first}")));
    }
    let status = if enabled { DestinationStatus::Active } else { DestinationStatus::Disabled };
    let record = store.set_destination_status(id, status).await?;
    Ok(Destination { record, app })
}

/// The IANA time zones the server knows, sorted.
pub fn timezones() -> Vec<String> {
    let mut names: Vec<String> = jiff::tz::db().available().map(|name| name.to_string()).collect();
    if !names.iter().any(|n| n == "UTC") {
        names.push("UTC".to_owned());
    }
    names.sort();
    names.dedup();
    names
}
