//! The Slack Bot destination form: wizard step 5, and the edit page. Each
//! field is checked as it is typed, by the same rules the server applies;
//! the server's answer is shown next to the fields it names.

use std::time::Duration;

use herald_model::destination::{
    AlertKind, ChannelCheck, ChannelRef, ChannelState, DestinationSettings, DestinationStatus, DestinationView, DraftUpdate,
    SUPPORTED_LOG_TYPES, Severity, SlackBotForm, parse_app_token, parse_bot_token, parse_client_id, parse_dedup_window,
    parse_destination_name, parse_hex_secret, parse_log_type, parse_remind_after, parse_remind_times,
};
use herald_model::mention::{Mentions, list_text, parse_list};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::components::fields::{Field, SecretField, TextField};
use crate::components::notice::{FieldMessage, FormError, Loader, focus_first_invalid};
use crate::components::{Submit, handler};

/// How long typing pauses before a draft saves what was typed, and before
/// Slack is asked about a typed channel.
const TYPING_PAUSE: Duration = Duration::from_millis(600);

/// The mention fields, most severe first: severity, the field's ID (the
/// server's name for it), its label.
const MENTION_FIELDS: [(Severity, &str, &str); 5] = [
    (Severity::Critical, "mentions.CRITICAL", "Critical"),
    (Severity::High, "mentions.HIGH", "High"),
    (Severity::Medium, "mentions.MEDIUM", "Medium"),
    (Severity::Low, "mentions.LOW", "Low"),
    (Severity::Info, "mentions.INFO", "Info"),
];

/// Runs the latest call `pause` after the calls stop coming.
#[derive(Clone, Copy)]
struct Debounce {
    pending: StoredValue<Option<leptos::leptos_dom::helpers::TimeoutHandle>, LocalStorage>,
}

impl Debounce {
    fn new() -> Debounce {
        let pending = StoredValue::new_local(None::<leptos::leptos_dom::helpers::TimeoutHandle>);
        on_cleanup(move || {
            if let Some(handle) = pending.try_update_value(Option::take).flatten() {
                handle.clear();
            }
        });
        Debounce { pending }
    }

    fn call(self, pause: Duration, f: impl FnOnce() + 'static) {
        if let Some(handle) = self.pending.try_update_value(Option::take).flatten() {
            handle.clear();
        }
        if let Ok(handle) = set_timeout_with_handle(f, pause) {
            self.pending.set_value(Some(handle));
        }
    }
}

#[component]
pub fn DestinationForm(
    destination: DestinationView,
    /// Called with the saved destination.
    saved: Callback<DestinationView>,
    /// Called with the draft as the server keeps it after each autosave.
    #[prop(optional)]
    drafted: Option<Callback<DestinationView>>,
    #[prop(into)] submit_label: String,
) -> impl IntoView {
    let id = destination.id.clone();
    let is_draft = destination.status == DestinationStatus::Draft;
    let secrets = RwSignal::new([
        destination.client_secret.clone(),
        destination.signing_secret.clone(),
        destination.bot_token.clone(),
        destination.app_token.clone(),
    ]);
    let name = Field::new(destination.settings.display_name.clone());
    let channel = Field::new(destination.settings.channel.clone());
    let client_id = Field::new(destination.settings.client_id.clone());
    let client_secret = Field::new(String::new());
    let signing_secret = Field::new(String::new());
    let bot_token = Field::new(String::new());
    let app_token = Field::new(String::new());
    let timezone = Field::new(destination.settings.timezone.clone());
    let dedup_window = Field::new(destination.dedup_window.to_string());
    let mention_fields = MENTION_FIELDS.map(|(severity, _, _)| Field::new(list_text(destination.settings.mentions.of(severity))));
    let remind_after = Field::new(destination.settings.remind_after.to_string());
    let remind_times = Field::new(destination.settings.remind_times.to_string());
    let severities = RwSignal::new(destination.settings.severities.clone());
    let alert_kinds = RwSignal::new(destination.settings.alert_kinds.clone());
    let all_log_types = RwSignal::new(destination.settings.log_types.is_empty());
    let log_types = RwSignal::new(destination.settings.log_types.clone());
    let other_log_type = RwSignal::new(String::new());
    let log_filter = RwSignal::new(String::new());
    let list_errors = RwSignal::new(Vec::<(String, String)>::new());
    // A problem with the form as a whole (not one field's).
    let form_error = RwSignal::new(None::<String>);
    // What Slack said of the channel typed, when the bot token is known.
    // Cleared at each keystroke; an answer about an older value is dropped.
    let slack_channel = RwSignal::new(None::<ChannelCheck>);
    let submitting = Submit::new();
    let timezones = Loader::new(api::timezones);
    let timezone_done = RwSignal::new(true);
    // With the Slack app's credentials stored, only the destination's own
    // fields are asked; the credentials open on request.
    let reused = !destination.settings.client_id.is_empty()
        && destination.client_secret.set
        && (destination.signing_secret.set || destination.app_token.set)
        && destination.bot_token.set;
    let socket_mode = destination.app_token.set;
    let show_credentials = RwSignal::new(!reused);
    let saved_client_id = destination.settings.client_id.clone();

    let form = move || SlackBotForm {
        settings: DestinationSettings {
            display_name: name.value.get_untracked(),
            channel: channel.value.get_untracked(),
            client_id: client_id.value.get_untracked(),
            severities: severities.get_untracked(),
            alert_kinds: alert_kinds.get_untracked(),
            log_types: if all_log_types.get_untracked() { Vec::new() } else { log_types.get_untracked() },
            timezone: timezone.value.get_untracked(),
            // What does not parse is left out; submitting says why first.
            mentions: Mentions::from_lists(
                MENTION_FIELDS
                    .iter()
                    .zip(mention_fields)
                    .filter_map(|((severity, _, _), field)| Some((*severity, parse_list(*severity, &field.value.get_untracked()).ok()?))),
            ),
            remind_after: parse_remind_after("remindAfter", &remind_after.value.get_untracked()).unwrap_or(0),
            remind_times: parse_remind_times("remindTimes", &remind_times.value.get_untracked()).unwrap_or(3),
        },
        client_secret: Some(client_secret.value.get_untracked()),
        signing_secret: Some(signing_secret.value.get_untracked()),
        bot_token: Some(bot_token.value.get_untracked()),
        app_token: Some(app_token.value.get_untracked()),
        // What is not whole minutes keeps the stored window; submitting
        // says why first.
        dedup_window: parse_dedup_window("dedupWindow", &dedup_window.value.get_untracked()).ok(),
        left_out: Default::default(),
    };

    // A draft keeps what is typed as it goes (not the secrets), so a reload
    // or a later visit finds it: on every change, and after a pause in
    // typing. One save at a time, the last one with the latest values.
    let draft_id = id.clone();
    let saving = StoredValue::new(false);
    let save_again = StoredValue::new(false);
    let autosave = Callback::new(move |()| {
        if !is_draft {
            return;
        }
        if saving.get_value() {
            save_again.set_value(true);
            return;
        }
        saving.set_value(true);
        let id = draft_id.clone();
        spawn_local(async move {
            loop {
                let update = DraftUpdate { step: 5, form: form() };
                if let (Ok(view), Some(drafted)) = (api::save_draft(&id, &update).await, drafted) {
                    drafted.run(view);
                }
                if !save_again.try_update_value(std::mem::take).unwrap_or(false) {
                    break;
                }
            }
            saving.set_value(false);
        });
    });
    let typing_pause = Debounce::new();
    let typed = Callback::new(move |()| typing_pause.call(TYPING_PAUSE, move || autosave.run(())));

    // With a bot token stored, Slack is asked about the channel as it is
    // typed, so a channel it has never heard of is caught here, not at the
    // invite step. Answers about an older value are dropped.
    let channel_pause = Debounce::new();
    let channel_id = id.clone();
    let channel_typed = Callback::new(move |()| {
        typed.run(());
        slack_channel.set(None);
        let value = channel.value.get_untracked();
        if !secrets.with_untracked(|s| s[2].set) || ChannelRef::parse("channel", &value).is_err() {
            return;
        }
        let id = channel_id.clone();
        channel_pause.call(TYPING_PAUSE, move || {
            spawn_local(async move {
                if let Ok(check) = api::channel_check_typed(&id, &value).await
                    && channel.value.get_untracked() == value
                {
                    slack_channel.set(Some(check));
                }
            });
        });
    });
    // A list's own message goes once the list changes.
    let list_changed = Callback::new(move |()| {
        list_errors.set(Vec::new());
        autosave.run(());
    });

    let fields = [
        ("displayName", name),
        ("channel", channel),
        ("clientId", client_id),
        ("clientSecret", client_secret),
        ("signingSecret", signing_secret),
        ("botToken", bot_token),
        ("appToken", app_token),
        ("timezone", timezone),
        ("dedupWindow", dedup_window),
        (MENTION_FIELDS[0].1, mention_fields[0]),
        (MENTION_FIELDS[1].1, mention_fields[1]),
        (MENTION_FIELDS[2].1, mention_fields[2]),
        (MENTION_FIELDS[3].1, mention_fields[3]),
        (MENTION_FIELDS[4].1, mention_fields[4]),
        ("remindAfter", remind_after),
        ("remindTimes", remind_times),
    ];
    let show_errors = move |error: &ApiError| {
        for (field, state) in fields {
            state.server_error.set(error.field(field));
        }
        if ["clientId", "clientSecret", "signingSecret", "botToken", "appToken"].iter().any(|f| error.field(f).is_some()) {
            show_credentials.set(true);
        }
        list_errors
            .set(["severities", "alertKinds", "logTypes"].into_iter().filter_map(|f| error.field(f).map(|m| (f.to_owned(), m))).collect());
        form_error.set(error.fields.is_empty().then(|| error.message.clone()));
        focus_first_invalid();
    };
    // Said while any field still carries the server's word; each message
    // goes as soon as its field changes.
    let flagged = Signal::derive(move || {
        fields.iter().any(|(_, state)| state.server_error.with(Option::is_some)) || list_errors.with(|l| !l.is_empty())
    });
    let banner = Signal::derive(move || {
        form_error.get().or_else(|| flagged.get().then(|| "Some fields need fixing: see the messages next to them.".to_owned()))
    });

    // Back to https: the app-level token is forgotten once the signing
    // secret is saved.
    let left_socket_mode = RwSignal::new(false);
    let leave_id = id.clone();
    let leave_socket_mode = Callback::new(move |()| {
        let id = leave_id.clone();
        spawn_local(async move {
            match api::leave_socket_mode(&id).await {
                Ok(view) => {
                    secrets.set([view.client_secret.clone(), view.signing_secret.clone(), view.bot_token.clone(), view.app_token.clone()]);
                    left_socket_mode.set(true);
                }
                Err(error) => show_errors(&error),
            }
        });
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if submitting.busy() {
            return;
        }
        // An empty list would mean every log type: say so instead.
        if !all_log_types.get_untracked() && log_types.with_untracked(Vec::is_empty) {
            list_errors.set(vec![("logTypes".to_owned(), "Pick at least one log type, or tick All log types.".to_owned())]);
            return;
        }
        // Typed values that would be dropped from the form: said, not lost.
        let mut typed_wrong = false;
        let mut judge = |field: Field, error: Option<String>| {
            if let Some(message) = error {
                field.server_error.set(Some(message));
                typed_wrong = true;
            }
        };
        judge(dedup_window, parse_dedup_window("dedupWindow", &dedup_window.value.get_untracked()).err().map(|e| e.message));
        judge(remind_after, parse_remind_after("remindAfter", &remind_after.value.get_untracked()).err().map(|e| e.message));
        judge(remind_times, parse_remind_times("remindTimes", &remind_times.value.get_untracked()).err().map(|e| e.message));
        for ((severity, _, _), field) in MENTION_FIELDS.iter().zip(mention_fields) {
            judge(field, parse_list(*severity, &field.value.get_untracked()).err().map(|e| e.message));
        }
        if typed_wrong {
            focus_first_invalid();
            return;
        }
        form_error.set(None);
        let id = id.clone();
        let body = form();
        submitting.run(async move {
            match api::save_destination(&id, &body).await {
                Ok(view) => {
                    for (_, state) in fields {
                        state.server_error.set(None);
                    }
                    for secret in [client_secret, signing_secret, bot_token, app_token] {
                        secret.value.set(String::new());
                    }
                    list_errors.set(Vec::new());
                    secrets.set([view.client_secret.clone(), view.signing_secret.clone(), view.bot_token.clone(), view.app_token.clone()]);
                    saved.run(view);
                }
                Err(error) => {
                    show_errors(&error);
                    // A draft keeps what was typed (not the secrets, which
                    // stay in the form until the save works).
                    if let (Ok(view), Some(drafted)) = (api::destination(&id).await, drafted) {
                        drafted.run(view);
                    }
                }
            }
        });
    };

    let add_log_type = Callback::new(move |()| {
        let typed = other_log_type.get_untracked();
        if let Ok(t) = parse_log_type("logTypes", &typed) {
            log_types.update(|list| {
                if !list.contains(&t) {
                    list.push(t)
                }
            });
            other_log_type.set(String::new());
            list_changed.run(());
        }
    });
    let list_error =
        move |field: &'static str| Signal::derive(move || list_errors.get().into_iter().find(|(f, _)| f == field).map(|(_, m)| m));
    let secret_placeholder = move |which: usize| {
        Signal::derive(move || {
            let hint = secrets.with(|s| s[which].clone());
            hint.hint.map(|hint| format!("Saved ({hint}): leave empty to keep")).unwrap_or_default()
        })
    };

    view! {
        <form class="form wide" on:submit=handler(submit) novalidate>
            <TextField id="displayName" label="Display Name" field=name autosave typed
                hint="How Herald names this destination, e.g. Security alerts."
                message=name.message(|v| parse_destination_name("displayName", v).err().map(|e| e.message)) />
            <TextField id="channel" label="Channel ID or Channel Name" field=channel autosave typed=channel_typed
                hint="#sec-alerts, or an ID like C0123ABCD (needed for Enterprise Grid org-wide installs)."
                message={
                    let rule = channel.message(|v| ChannelRef::parse("channel", v).err().map(|e| e.message));
                    Signal::derive(move || rule.get().or_else(|| {
                        slack_channel.get().filter(|check| check.state == ChannelState::Problem).map(|check| check.message)
                    }))
                } />
            <Show
                when=move || show_credentials.get()
                fallback=move || view! {
                    <div class="notice credentials" role="group" aria-label="Slack app credentials">
                        <p>
                            "Slack app credentials: saved (Client ID "<code>{saved_client_id.clone()}</code>
                            {if socket_mode {
                                ", Client Secret, Bot OAuth Token and App-Level Token for Socket Mode)."
                            } else {
                                ", Client Secret, Signing Secret and Bot OAuth Token)."
                            }}
                        </p>
                        <button type="button" class="button quiet" on:click=handler(move |_| show_credentials.set(true))>"Change credentials"</button>
                    </div>
                }
            >
                <TextField id="clientId" label="Client ID" field=client_id autosave typed
                    hint="Basic Information → App Credentials."
                    message=client_id.message(|v| parse_client_id("clientId", v).err().map(|e| e.message)) />
                <SecretField id="clientSecret" label="Client Secret" field=client_secret placeholder=secret_placeholder(0)
                    message=client_secret.message(|v| parse_hex_secret("clientSecret", "Client Secret", v).err().map(|e| e.message)) />
                <SecretField id="signingSecret" label="Signing Secret" field=signing_secret placeholder=secret_placeholder(1)
                    message=signing_secret.message(|v| parse_hex_secret("signingSecret", "Signing Secret", v).err().map(|e| e.message)) />
                <SecretField id="botToken" label="Bot OAuth Token" field=bot_token placeholder=secret_placeholder(2)
                    message=bot_token.message(|v| parse_bot_token("botToken", v).err().map(|e| e.message)) />
                <SecretField id="appToken" label="App-Level Token (Socket Mode)" field=app_token placeholder=secret_placeholder(3)
                    message=app_token.message(|v| parse_app_token("appToken", v).err().map(|e| e.message)) />
                <p class="hint">
                    "Only when Slack cannot reach Herald over https: "<strong>"Basic Information"</strong>" → "
                    <strong>"App-Level Tokens"</strong>", a token with the scope connections:write (it starts with xapp-). With it, Herald opens the connection to Slack and the Signing Secret is not needed."
                </p>
                <Show when=move || secrets.with(|s| s[3].set) fallback=move || left_socket_mode.get().then(|| view! {
                    <p class="notice success" role="status">"Socket Mode is off for this app: Slack's requests now come over https, checked with the Signing Secret."</p>
                })>
                    <div class="leave-socket-mode">
                        <button type="button" class="button quiet" on:click=handler(move |_| leave_socket_mode.run(()))>"Stop using Socket Mode"</button>
                        <p class="hint">"For when Slack can reach Herald over https again: first turn Socket Mode off in the app's settings in Slack, enter the Request URLs under Event Subscriptions and Interactivity, and save the Signing Secret here."</p>
                    </div>
                </Show>
            </Show>

            <fieldset class="choices-row" id="severities">
                <legend>"Severity"</legend>
                {Severity::ALL
                    .into_iter()
                    .map(|severity| view! { <Toggle label=severity.label() value=severity set=severities changed=list_changed /> })
                    .collect_view()}
                <FieldMessage id="severities-error" message=list_error("severities") />
            </fieldset>
            <fieldset class="choices-row" id="alertKinds">
                <legend>"Alert Types"</legend>
                {AlertKind::ALL
                    .into_iter()
                    .map(|kind| view! { <Toggle label=kind.label() value=kind set=alert_kinds changed=list_changed /> })
                    .collect_view()}
                <FieldMessage id="alertKinds-error" message=list_error("alertKinds") />
            </fieldset>
            <fieldset class="log-types" id="logTypes">
                <legend>"Log Types"</legend>
                <label class="check">
                    <input type="checkbox" name="allLogTypes" prop:checked=move || all_log_types.get()
                        on:change=handler(move |ev: leptos::ev::Event| { all_log_types.set(event_target_checked(&ev)); list_changed.run(()) }) />
                    "All log types"
                </label>
                <Show when=move || !all_log_types.get()>
                    <input id="logTypeFilter" class="filter" type="search" placeholder="Filter log types, e.g. AWS"
                        aria-label="Filter log types" autocomplete="off"
                        prop:value=move || log_filter.get()
                        on:input=handler(move |ev: leptos::ev::Event| log_filter.set(event_target_value(&ev)))
                        on:keydown=handler(move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" { ev.prevent_default() }) />
                    <div class="choices-grid">
                        {SUPPORTED_LOG_TYPES
                            .iter()
                            .map(|t| {
                                let lower = t.to_ascii_lowercase();
                                let hidden = move || {
                                    let filter = log_filter.get();
                                    !filter.trim().is_empty() && !lower.contains(&filter.trim().to_ascii_lowercase())
                                };
                                view! {
                                    <span class="log-type" hidden=hidden>
                                        <Toggle label=*t value=t.to_string() set=log_types changed=list_changed />
                                    </span>
                                }
                            })
                            .collect_view()}
                    </div>
                    <div class="inline-add">
                        <label for="otherLogType">"Another log type"</label>
                        <input id="otherLogType" type="text" placeholder="Vendor.Name"
                            prop:value=move || other_log_type.get()
                            on:input=handler(move |ev: leptos::ev::Event| other_log_type.set(event_target_value(&ev)))
                            // Enter adds the log type; it never submits the whole form.
                            on:keydown=handler(move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" {
                                ev.prevent_default();
                                add_log_type.run(());
                            }) />
                        <button type="button" class="button" on:click=handler(move |_| add_log_type.run(()))>"Add"</button>
                        <FieldMessage id="otherLogType-error" message=Signal::derive(move || {
                            let typed = other_log_type.get();
                            if typed.trim().is_empty() { None } else { parse_log_type("logTypes", &typed).err().map(|e| e.message) }
                        }) />
                    </div>
                    <ul class="chips" aria-label="Other log types">
                        {move || log_types
                            .get()
                            .into_iter()
                            .filter(|t| !SUPPORTED_LOG_TYPES.contains(&t.as_str()))
                            .map(|t| {
                                let gone = t.clone();
                                view! {
                                    <li class="chip">
                                        {t.clone()}
                                        <button type="button" aria-label=format!("Remove {t}") on:click=handler(move |_| {
                                            log_types.update(|list| list.retain(|x| *x != gone));
                                            list_changed.run(());
                                        })>"×"</button>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </Show>
                <FieldMessage id="logTypes-error" message=list_error("logTypes") />
            </fieldset>

            <label for="timezone">"Timezone"</label>
            <input id="timezone" name="timezone" type="text" list="timezone-list" autocomplete="off"
                aria-invalid=move || timezone.server_error.with(Option::is_some).then_some("true")
                aria-describedby="timezone-error"
                prop:value=move || timezone.value.get()
                on:input=handler(move |ev: leptos::ev::Event| {
                    timezone.server_error.set(None);
                    timezone_done.set(false);
                    timezone.value.set(event_target_value(&ev))
                })
                on:change=handler(move |_| { timezone_done.set(true); autosave.run(()) }) />
            <datalist id="timezone-list">
                {move || timezones.get().and_then(Result::ok).map(|list| {
                    list.timezones.into_iter().map(|z| view! { <option value=z></option> }).collect_view()
                })}
            </datalist>
            <p class="hint">"Times in messages are shown in this zone. Type to search, e.g. Berlin."</p>
            <FieldMessage id="timezone-error" message=Signal::derive(move || {
                let typed = timezone.value.get();
                let known = timezones.get().and_then(Result::ok).map(|l| l.timezones.contains(&typed));
                // Judged once the field is left, not at every keystroke.
                timezone.server_error.get().or_else(|| match known {
                    Some(false) if timezone_done.get() && !typed.trim().is_empty() => {
                        Some(format!("{typed:?} is not a time zone: pick one from the list."))
                    }
                    _ => None,
                })
            }) />

            <TextField id="dedupWindow" label="Deduplication window (minutes)" field=dedup_window autosave typed inputmode="numeric"
                hint="Repeats of an open alert within this many minutes (same dedupKey, else detection and title) fold into it instead of posting again. 0 turns folding off."
                message=dedup_window.message(|v| parse_dedup_window("dedupWindow", v).err().map(|e| e.message)) />

            <fieldset class="stacked" id="mentions">
                <legend>"Mentions"</legend>
                <p class="hint">
                    "Who each severity's messages notify: @here, @channel, a user group by its handle (@sec-oncall) or ID (S0123ABCD), "
                    "or a user ID (U0123ABCD), separated by commas. Herald looks handles up in Slack when you save, which needs the app's "
                    "usergroups:read scope. Alert text never mentions anyone."
                </p>
                {MENTION_FIELDS
                    .into_iter()
                    .zip(mention_fields)
                    .map(|((severity, id, label), field)| view! {
                        <TextField id=id label=label field=field autosave typed placeholder="@here, @sec-oncall"
                            message=field.message(move |v| parse_list(severity, v).err().map(|e| e.message)) />
                    })
                    .collect_view()}
            </fieldset>
            <fieldset class="stacked" id="reminders">
                <legend>"Reminders"</legend>
                <TextField id="remindAfter" label="Remind after (minutes)" field=remind_after autosave typed inputmode="numeric"
                    hint="While an alert stays Open and nobody is assigned, Herald replies in its thread with the mentions after this many minutes, and again each time as long. 0 turns reminders off."
                    message=remind_after.message(|v| parse_remind_after("remindAfter", v).err().map(|e| e.message)) />
                <TextField id="remindTimes" label="Reminders per alert, at most" field=remind_times autosave typed inputmode="numeric"
                    message=remind_times.message(|v| parse_remind_times("remindTimes", v).err().map(|e| e.message)) />
            </fieldset>

            <FormError error=banner />
            <button type="submit" class="button primary" disabled=move || submitting.pending()>
                {move || if submitting.pending() { "Saving…".to_owned() } else { submit_label.clone() }}
            </button>
        </form>
    }
}

/// A checkbox that adds `value` to, or removes it from, `set`.
#[component]
fn Toggle<T>(label: &'static str, value: T, set: RwSignal<Vec<T>>, changed: Callback<()>) -> impl IntoView
where
    T: Clone + PartialEq + Send + Sync + 'static,
{
    let checked_value = value.clone();
    view! {
        <label class="check">
            <input type="checkbox" name=label
                prop:checked=move || set.with(|s| s.contains(&checked_value))
                on:change=handler(move |ev: leptos::ev::Event| {
                    let on = event_target_checked(&ev);
                    let value = value.clone();
                    set.update(|s| {
                        s.retain(|v| *v != value);
                        if on { s.push(value) }
                    });
                    changed.run(());
                }) />
            {label}
        </label>
    }
}
