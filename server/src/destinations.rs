//! Alert destinations: drafts that follow the setup wizard, settings
//! checked by the model's rules (and the time zone database), secrets
//! sealed before they are stored and shown only as hints.

use axum::http::StatusCode;
use herald_model::api::FieldError;
use herald_model::destination::{
    AlertKind, DestinationKind, DestinationStatus, DestinationSummary, DestinationView, DraftUpdate, SecretHint,
    Severity, SlackAppView, SlackBotForm, StoredSecrets, WIZARD_STEPS, last_four, parse_bot_token, parse_client_id,
    parse_hex_secret,
};

use crate::AppState;
use crate::error::ApiError;
use crate::store::{DestinationRecord, DestinationValues, SlackAppRecord, SlackAppSecrets, StoredSecret};

/// Where each secret is sealed; the context binds a sealed value to its app.
fn context(field: &str, client_id: &str) -> String {
    format!("slack_apps.{field}:{client_id}")
}

fn hint(secret: &Option<StoredSecret>) -> SecretHint {
    SecretHint::of(secret.as_ref().map(|s| s.last_four.as_str()))
}

pub fn view(record: DestinationRecord, app: Option<&SlackAppRecord>) -> DestinationView {
    let v = record.values;
    DestinationView {
        id: record.id,
        kind: record.kind,
        status: record.status,
        wizard_step: record.wizard_step,
        display_name: v.display_name,
        channel: v.channel,
        client_id: v.client_id,
        client_secret: app.map(|a| hint(&a.client_secret)).unwrap_or_default(),
        signing_secret: app.map(|a| hint(&a.signing_secret)).unwrap_or_default(),
        bot_token: app.map(|a| hint(&a.bot_token)).unwrap_or_default(),
        severities: v.severities,
        alert_kinds: v.alert_kinds,
        log_types: v.log_types,
        timezone: v.timezone,
        created_at: record.created_at,
        updated_at: record.updated_at,
    }
}

pub fn summary(record: DestinationRecord) -> DestinationSummary {
    DestinationSummary {
        id: record.id,
        display_name: record.values.display_name,
        kind: record.kind,
        status: record.status,
        wizard_step: record.wizard_step,
        channel: record.values.channel,
        severities: record.values.severities,
        alert_kinds: record.values.alert_kinds,
        log_types: record.values.log_types,
        created_at: record.created_at,
    }
}

pub fn app_view(app: &SlackAppRecord) -> SlackAppView {
    SlackAppView {
        client_id: app.client_id.clone(),
        client_secret: hint(&app.client_secret),
        signing_secret: hint(&app.signing_secret),
        bot_token: hint(&app.bot_token),
    }
}

async fn load(state: &AppState, id: &str) -> Result<(DestinationRecord, Option<SlackAppRecord>), ApiError> {
    let record = state.store.destination(id).await?.ok_or_else(|| ApiError::not_found("There is no such destination."))?;
    let app = if record.values.client_id.is_empty() { None } else { state.store.slack_app(&record.values.client_id).await? };
    Ok((record, app))
}

pub async fn get(state: &AppState, id: &str) -> Result<DestinationView, ApiError> {
    let (record, app) = load(state, id).await?;
    Ok(view(record, app.as_ref()))
}

/// A new draft. When a Slack app is stored already, the draft uses it:
/// later destinations need only a name and a channel.
pub async fn create(state: &AppState, kind: DestinationKind) -> Result<DestinationView, ApiError> {
    let app = state.store.latest_slack_app().await?;
    let values = DestinationValues {
        display_name: String::new(),
        channel: String::new(),
        client_id: app.as_ref().map(|a| a.client_id.clone()).unwrap_or_default(),
        severities: vec![Severity::Medium, Severity::High, Severity::Critical],
        alert_kinds: AlertKind::ALL.to_vec(),
        log_types: Vec::new(),
        timezone: "UTC".to_owned(),
    };
    let record = state.store.create_destination(kind, &values).await?;
    Ok(view(record, app.as_ref()))
}

/// Longest value a draft keeps for any one text field.
const DRAFT_FIELD_MAX: usize = 1000;

fn draft_values(form: &SlackBotForm) -> Result<DestinationValues, ApiError> {
    let fields = [("displayName", &form.display_name), ("channel", &form.channel), ("clientId", &form.client_id), ("timezone", &form.timezone)];
    let too_long: Vec<FieldError> = fields
        .iter()
        .chain(form.log_types.iter().map(|t| ("logTypes", t)).collect::<Vec<_>>().iter())
        .filter(|(_, value)| value.chars().count() > DRAFT_FIELD_MAX)
        .map(|(field, _)| FieldError::new(*field, format!("At most {DRAFT_FIELD_MAX} characters.")))
        .collect();
    if !too_long.is_empty() {
        return Err(ApiError::invalid(too_long));
    }
    Ok(DestinationValues {
        display_name: form.display_name.clone(),
        channel: form.channel.clone(),
        client_id: form.client_id.trim().to_owned(),
        severities: form.severities.clone(),
        alert_kinds: form.alert_kinds.clone(),
        log_types: form.log_types.clone(),
        timezone: form.timezone.clone(),
    })
}

/// Saves the wizard's progress as typed; secrets are not saved this way.
pub async fn save_draft(state: &AppState, id: &str, update: DraftUpdate) -> Result<DestinationView, ApiError> {
    if !(1..=WIZARD_STEPS).contains(&update.step) {
        return Err(ApiError::invalid(vec![FieldError::new("step", format!("The step is 1 to {WIZARD_STEPS}."))]));
    }
    let (record, _) = load(state, id).await?;
    let step = (record.status == DestinationStatus::Draft).then_some(update.step);
    let record = state.store.update_destination(id, &draft_values(&update.form)?, step).await?;
    let app = state.store.slack_app(&record.values.client_id).await?;
    Ok(view(record, app.as_ref()))
}

/// Saves the settings after checking every field. Secrets that are valid
/// are stored under a valid client ID even when other fields still need
/// fixing, so nobody pastes them twice.
pub async fn save_settings(state: &AppState, id: &str, form: SlackBotForm) -> Result<DestinationView, ApiError> {
    let (record, _) = load(state, id).await?;
    let mut app = None;
    if let Ok(client_id) = parse_client_id("clientId", &form.client_id) {
        app = store_secrets(state, &client_id, &form).await?;
    }
    let stored = app.as_ref().map_or_else(StoredSecrets::default, |a: &SlackAppRecord| StoredSecrets {
        client_secret: a.client_secret.is_some(),
        signing_secret: a.signing_secret.is_some(),
        bot_token: a.bot_token.is_some(),
    });
    let mut errors = match form.validate(stored) {
        Ok(_) => Vec::new(),
        Err(errors) => errors,
    };
    if !form.timezone.trim().is_empty() && jiff::tz::TimeZone::get(form.timezone.trim()).is_err() {
        errors.push(FieldError::new("timezone", format!("{:?} is not a time zone Herald knows: pick one from the list.", form.timezone.trim())));
    }
    if !errors.is_empty() {
        // Keep what was typed, so a reload shows it with the errors fixed one by one.
        state.store.update_destination(id, &draft_values(&form)?, None).await?;
        return Err(ApiError::invalid(errors));
    }
    let valid = form.validate(stored).expect("checked above");
    let values = DestinationValues {
        display_name: valid.display_name,
        channel: valid.channel.display(),
        client_id: valid.client_id,
        severities: valid.severities,
        alert_kinds: valid.alert_kinds,
        log_types: valid.log_types,
        timezone: valid.timezone,
    };
    // A draft moves on to inviting the bot (step 6).
    let step = (record.status == DestinationStatus::Draft).then_some(record.wizard_step.max(6));
    let record = state.store.update_destination(id, &values, step).await?;
    tracing::info!(destination.id = %record.id, "destination settings saved");
    Ok(view(record, app.as_ref()))
}

/// Seals and stores the secrets in `form` that pass their rule.
async fn store_secrets(state: &AppState, client_id: &str, form: &SlackBotForm) -> Result<Option<SlackAppRecord>, ApiError> {
    let seal = |field: &str, value: &Option<String>, parse: &dyn Fn(&str) -> Result<String, FieldError>| {
        let value = value.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
        let secret = parse(value).ok()?;
        Some(StoredSecret { sealed: state.secret_key.seal(&secret, &context(field, client_id)), last_four: last_four(&secret) })
    };
    let secrets = SlackAppSecrets {
        client_secret: seal("client_secret", &form.client_secret, &|v| parse_hex_secret("clientSecret", "Client Secret", v)),
        signing_secret: seal("signing_secret", &form.signing_secret, &|v| parse_hex_secret("signingSecret", "Signing Secret", v)),
        bot_token: seal("bot_token", &form.bot_token, &|v| parse_bot_token("botToken", v)),
    };
    let any = secrets.client_secret.is_some() || secrets.signing_secret.is_some() || secrets.bot_token.is_some();
    if any {
        Ok(Some(state.store.upsert_slack_app(client_id, &secrets).await?))
    } else {
        Ok(state.store.slack_app(client_id).await?)
    }
}

/// Ends setup: the destination becomes active if everything it needs is there.
pub async fn finish(state: &AppState, id: &str) -> Result<DestinationView, ApiError> {
    let (record, app) = load(state, id).await?;
    let current = view(record, app.as_ref());
    if let Err(errors) = current.form().validate(current.stored_secrets()) {
        let first = errors[0].message.clone();
        return Err(ApiError::invalid(errors).with_message(format!("Setup is not complete yet: {first}")));
    }
    let record = match current.status {
        DestinationStatus::Draft => state.store.set_destination_status(id, DestinationStatus::Active).await?,
        _ => state.store.destination(id).await?.ok_or_else(|| ApiError::not_found("There is no such destination."))?,
    };
    tracing::info!(destination.id = %record.id, "destination set up");
    Ok(view(record, app.as_ref()))
}

/// Switches a finished destination on or off.
pub async fn set_enabled(state: &AppState, id: &str, enabled: bool) -> Result<DestinationView, ApiError> {
    let (record, app) = load(state, id).await?;
    if record.status == DestinationStatus::Draft {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "setup_incomplete",
            "Finish setting this destination up first; a draft receives nothing anyway.",
        ));
    }
    let status = if enabled { DestinationStatus::Active } else { DestinationStatus::Disabled };
    let record = state.store.set_destination_status(id, status).await?;
    Ok(view(record, app.as_ref()))
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
