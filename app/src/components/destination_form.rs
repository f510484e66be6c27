//! The Slack Bot destination form: wizard step 5, and the edit page. Each
//! field is checked as it is typed, by the same rules the server applies;
//! the server's answer is shown next to the fields it names.

use herald_model::destination::{
    AlertKind, ChannelRef, DestinationStatus, DestinationView, DraftUpdate, SUPPORTED_LOG_TYPES, Severity, SlackBotForm,
    parse_bot_token, parse_client_id, parse_destination_name, parse_hex_secret, parse_log_type,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::components::notice::{FieldMessage, FormError};

/// One text field's state: what is typed, and the server's last word on it.
#[derive(Clone, Copy)]
struct Field {
    value: RwSignal<String>,
    server_error: RwSignal<Option<String>>,
}

impl Field {
    fn new(value: String) -> Field {
        Field { value: RwSignal::new(value), server_error: RwSignal::new(None) }
    }

    /// The server's error until the field is edited, then the rule's verdict
    /// on what is typed (nothing while it is empty).
    fn message(self, rule: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Signal<Option<String>> {
        Signal::derive(move || {
            self.server_error.get().or_else(|| {
                let value = self.value.get();
                if value.trim().is_empty() { None } else { rule(&value) }
            })
        })
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
    let secrets = RwSignal::new((
        destination.client_secret.clone(),
        destination.signing_secret.clone(),
        destination.bot_token.clone(),
    ));
    let name = Field::new(destination.display_name.clone());
    let channel = Field::new(destination.channel.clone());
    let client_id = Field::new(destination.client_id.clone());
    let client_secret = Field::new(String::new());
    let signing_secret = Field::new(String::new());
    let bot_token = Field::new(String::new());
    let timezone = Field::new(destination.timezone.clone());
    let severities = RwSignal::new(destination.severities.clone());
    let alert_kinds = RwSignal::new(destination.alert_kinds.clone());
    let all_log_types = RwSignal::new(destination.log_types.is_empty());
    let log_types = RwSignal::new(destination.log_types.clone());
    let other_log_type = RwSignal::new(String::new());
    let list_errors = RwSignal::new(Vec::<(String, String)>::new());
    let form_error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let timezones = LocalResource::new(api::timezones);
    let timezone_done = RwSignal::new(true);
    // With the Slack app's credentials stored, only the destination's own
    // fields are asked; the credentials open on request.
    let reused = !destination.client_id.is_empty()
        && destination.client_secret.set
        && destination.signing_secret.set
        && destination.bot_token.set;
    let show_credentials = RwSignal::new(!reused);
    let saved_client_id = destination.client_id.clone();

    let form = move || SlackBotForm {
        display_name: name.value.get_untracked(),
        channel: channel.value.get_untracked(),
        client_id: client_id.value.get_untracked(),
        client_secret: Some(client_secret.value.get_untracked()),
        signing_secret: Some(signing_secret.value.get_untracked()),
        bot_token: Some(bot_token.value.get_untracked()),
        severities: severities.get_untracked(),
        alert_kinds: alert_kinds.get_untracked(),
        log_types: if all_log_types.get_untracked() { Vec::new() } else { log_types.get_untracked() },
        timezone: timezone.value.get_untracked(),
    };

    // A draft keeps what is typed as it goes (not the secrets), so a reload
    // or a later visit finds it.
    let draft_id = id.clone();
    let autosave = Callback::new(move |()| {
        if !is_draft {
            return;
        }
        let id = draft_id.clone();
        let update = DraftUpdate { step: 5, form: form() };
        spawn_local(async move {
            if let (Ok(view), Some(drafted)) = (api::save_draft(&id, &update).await, drafted) {
                drafted.run(view);
            }
        });
    });

    let fields = [
        ("displayName", name),
        ("channel", channel),
        ("clientId", client_id),
        ("clientSecret", client_secret),
        ("signingSecret", signing_secret),
        ("botToken", bot_token),
        ("timezone", timezone),
    ];
    let show_errors = move |error: &ApiError| {
        for (field, state) in fields {
            state.server_error.set(error.field(field));
        }
        if ["clientId", "clientSecret", "signingSecret", "botToken"].iter().any(|f| error.field(f).is_some()) {
            show_credentials.set(true);
        }
        list_errors.set(
            ["severities", "alertKinds", "logTypes"]
                .into_iter()
                .filter_map(|f| error.field(f).map(|m| (f.to_owned(), m)))
                .collect(),
        );
        form_error.set(Some(if error.fields.is_empty() {
            error.message.clone()
        } else {
            "Some fields need fixing: see the messages next to them.".to_owned()
        }));
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        // An empty list would mean every log type: say so instead.
        if !all_log_types.get_untracked() && log_types.with_untracked(Vec::is_empty) {
            list_errors.set(vec![("logTypes".to_owned(), "Pick at least one log type, or tick All log types.".to_owned())]);
            form_error.set(Some("Some fields need fixing: see the messages next to them.".to_owned()));
            return;
        }
        pending.set(true);
        form_error.set(None);
        let id = id.clone();
        let body = form();
        spawn_local(async move {
            match api::save_destination(&id, &body).await {
                Ok(view) => {
                    for (_, state) in fields {
                        state.server_error.set(None);
                    }
                    for secret in [client_secret, signing_secret, bot_token] {
                        secret.value.set(String::new());
                    }
                    list_errors.set(Vec::new());
                    secrets.set((view.client_secret.clone(), view.signing_secret.clone(), view.bot_token.clone()));
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
            pending.set(false);
        });
    };

    let list_error = move |field: &'static str| {
        Signal::derive(move || list_errors.get().into_iter().find(|(f, _)| f == field).map(|(_, m)| m))
    };
    let secret_placeholder = move |which: usize| {
        Signal::derive(move || {
            let (a, b, c) = secrets.get();
            let hint = [a, b, c][which].clone();
            hint.hint.map(|hint| format!("Saved ({hint}): leave empty to keep")).unwrap_or_default()
        })
    };

    view! {
        <form class="form wide" on:submit=submit novalidate>
            <TextField id="displayName" label="Display Name" field=name autosave
                hint="How Herald names this destination, e.g. Security alerts."
                message=name.message(|v| parse_destination_name("displayName", v).err().map(|e| e.message)) />
            <TextField id="channel" label="Channel ID or Channel Name" field=channel autosave
                hint="#sec-alerts, or an ID like C0123ABCD (needed for Enterprise Grid org-wide installs)."
                message=channel.message(|v| ChannelRef::parse("channel", v).err().map(|e| e.message)) />
            <Show
                when=move || show_credentials.get()
                fallback=move || view! {
                    <div class="notice credentials" role="group" aria-label="Slack app credentials">
                        <p>
                            "Slack app credentials: saved (Client ID "<code>{saved_client_id.clone()}</code>
                            ", Client Secret, Signing Secret and Bot OAuth Token)."
                        </p>
                        <button type="button" class="button quiet" on:click=move |_| show_credentials.set(true)>"Change credentials"</button>
                    </div>
                }
            >
                <TextField id="clientId" label="Client ID" field=client_id autosave
                    hint="Basic Information → App Credentials."
                    message=client_id.message(|v| parse_client_id("clientId", v).err().map(|e| e.message)) />
                <SecretField id="clientSecret" label="Client Secret" field=client_secret placeholder=secret_placeholder(0)
                    message=client_secret.message(|v| parse_hex_secret("clientSecret", "Client Secret", v).err().map(|e| e.message)) />
                <SecretField id="signingSecret" label="Signing Secret" field=signing_secret placeholder=secret_placeholder(1)
                    message=signing_secret.message(|v| parse_hex_secret("signingSecret", "Signing Secret", v).err().map(|e| e.message)) />
                <SecretField id="botToken" label="Bot OAuth Token" field=bot_token placeholder=secret_placeholder(2)
                    message=bot_token.message(|v| parse_bot_token("botToken", v).err().map(|e| e.message)) />
            </Show>

            <fieldset class="choices-row" id="severities">
                <legend>"Severity"</legend>
                {Severity::ALL
                    .into_iter()
                    .map(|severity| view! { <Toggle label=severity.label() value=severity set=severities changed=autosave /> })
                    .collect_view()}
                <FieldMessage id="severities-error" message=list_error("severities") />
            </fieldset>
            <fieldset class="choices-row" id="alertKinds">
                <legend>"Alert Types"</legend>
                {AlertKind::ALL
                    .into_iter()
                    .map(|kind| view! { <Toggle label=kind.label() value=kind set=alert_kinds changed=autosave /> })
                    .collect_view()}
                <FieldMessage id="alertKinds-error" message=list_error("alertKinds") />
            </fieldset>
            <fieldset class="log-types" id="logTypes">
                <legend>"Log Types"</legend>
                <label class="check">
                    <input type="checkbox" name="allLogTypes" prop:checked=move || all_log_types.get()
                        on:change:target=move |ev| { all_log_types.set(ev.target().checked()); autosave.run(()) } />
                    "All log types"
                </label>
                <Show when=move || !all_log_types.get()>
                    <div class="choices-grid">
                        {SUPPORTED_LOG_TYPES
                            .iter()
                            .map(|t| view! { <Toggle label=*t value=t.to_string() set=log_types changed=autosave /> })
                            .collect_view()}
                    </div>
                    <div class="inline-add">
                        <label for="otherLogType">"Another log type"</label>
                        <input id="otherLogType" type="text" placeholder="Vendor.Name"
                            prop:value=move || other_log_type.get()
                            on:input:target=move |ev| other_log_type.set(ev.target().value()) />
                        <button type="button" class="button" on:click=move |_| {
                            let typed = other_log_type.get_untracked();
                            if let Ok(t) = parse_log_type("logTypes", &typed) {
                                log_types.update(|list| if !list.contains(&t) { list.push(t) });
                                other_log_type.set(String::new());
                                autosave.run(());
                            }
                        }>"Add"</button>
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
                                        <button type="button" aria-label=format!("Remove {t}") on:click=move |_| {
                                            log_types.update(|list| list.retain(|x| *x != gone));
                                            autosave.run(());
                                        }>"×"</button>
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
                prop:value=move || timezone.value.get()
                on:input:target=move |ev| {
                    timezone.server_error.set(None);
                    timezone_done.set(false);
                    timezone.value.set(ev.target().value())
                }
                on:change=move |_| { timezone_done.set(true); autosave.run(()) } />
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

            <FormError error=form_error.into() />
            <button type="submit" class="button primary" disabled=move || pending.get()>
                {move || if pending.get() { "Saving…".to_owned() } else { submit_label.clone() }}
            </button>
        </form>
    }
}

#[component]
fn TextField(
    id: &'static str,
    label: &'static str,
    hint: &'static str,
    field: Field,
    message: Signal<Option<String>>,
    autosave: Callback<()>,
) -> impl IntoView {
    view! {
        <label for=id>{label}</label>
        <input id=id name=id type="text" autocomplete="off"
            prop:value=move || field.value.get()
            on:input:target=move |ev| { field.server_error.set(None); field.value.set(ev.target().value()) }
            on:change=move |_| autosave.run(()) />
        <p class="hint">{hint}</p>
        <FieldMessage id=format!("{id}-error") message />
    }
}

#[component]
fn SecretField(
    id: &'static str,
    label: &'static str,
    field: Field,
    placeholder: Signal<String>,
    message: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <label for=id>{label}</label>
        <input id=id name=id type="password" autocomplete="off"
            placeholder=move || placeholder.get()
            prop:value=move || field.value.get()
            on:input:target=move |ev| { field.server_error.set(None); field.value.set(ev.target().value()) } />
        <FieldMessage id=format!("{id}-error") message />
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
                on:change:target=move |ev| {
                    let on = ev.target().checked();
                    let value = value.clone();
                    set.update(|s| {
                        s.retain(|v| *v != value);
                        if on { s.push(value) }
                    });
                    changed.run(());
                } />
            {label}
        </label>
    }
}
