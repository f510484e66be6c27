//! The form fields every form uses: a text field and a secret field bound
//! to a [`Field`], with its label, hint and message wired for screen
//! readers (`aria-describedby`, `aria-invalid`).

use leptos::prelude::*;

use crate::components::handler;
use crate::components::notice::FieldMessage;

/// One text field's state: what is typed, and the server's last word on it.
#[derive(Clone, Copy)]
pub struct Field {
    pub value: RwSignal<String>,
    pub server_error: RwSignal<Option<String>>,
}

impl Field {
    pub fn new(value: String) -> Field {
        Field { value: RwSignal::new(value), server_error: RwSignal::new(None) }
    }

    /// The server's error until the field is edited, then the rule's verdict
    /// on what is typed (nothing while it is empty).
    pub fn message(self, rule: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Signal<Option<String>> {
        Signal::derive(move || {
            self.server_error.get().or_else(|| {
                let value = self.value.get();
                if value.trim().is_empty() { None } else { rule(&value) }
            })
        })
    }
}

#[component]
pub fn TextField(
    id: &'static str,
    label: &'static str,
    field: Field,
    /// The form's name for it; by default its `id`.
    #[prop(optional)]
    name: Option<&'static str>,
    /// Below the field, e.g. where to find the value.
    #[prop(optional)]
    hint: Option<&'static str>,
    /// What is wrong with it; by default the server's word.
    #[prop(optional)]
    message: Option<Signal<Option<String>>>,
    /// Saves at once (the field was left, or Enter).
    #[prop(optional)]
    autosave: Option<Callback<()>>,
    /// Called at each keystroke.
    #[prop(optional)]
    typed: Option<Callback<()>>,
    /// The phone keyboard to offer, e.g. "numeric".
    #[prop(optional)]
    inputmode: Option<&'static str>,
    /// An example shown while the field is empty.
    #[prop(optional)]
    placeholder: Option<&'static str>,
    #[prop(default = "text")] input_type: &'static str,
    /// What the browser may fill in, e.g. "username".
    #[prop(default = "off")]
    autocomplete: &'static str,
    #[prop(optional)] required: bool,
) -> impl IntoView {
    let message = message.unwrap_or_else(|| field.server_error.into());
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    // The message's element is there only while it shows; a reference to
    // an absent element is skipped by screen readers.
    let described = if hint.is_some() { format!("{hint_id} {error_id}") } else { error_id.clone() };
    view! {
        <label for=id>{label}</label>
        <input id=id name=name.unwrap_or(id) type=input_type autocomplete=autocomplete inputmode=inputmode placeholder=placeholder required=required
            aria-invalid=move || message.with(Option::is_some).then_some("true")
            aria-describedby=described
            prop:value=move || field.value.get()
            on:input=handler(move |ev: leptos::ev::Event| {
                field.server_error.set(None);
                field.value.set(event_target_value(&ev));
                if let Some(typed) = typed {
                    typed.run(());
                }
            })
            on:change=handler(move |_| {
                if let Some(autosave) = autosave {
                    autosave.run(());
                }
            }) />
        {hint.map(|hint| view! { <p class="hint" id=hint_id>{hint}</p> })}
        <FieldMessage id=error_id message />
    }
}

#[component]
pub fn SecretField(
    id: &'static str,
    label: &'static str,
    field: Field,
    placeholder: Signal<String>,
    message: Signal<Option<String>>,
) -> impl IntoView {
    let shown = RwSignal::new(false);
    let error_id = format!("{id}-error");
    view! {
        <label for=id>{label}</label>
        <div class="secret-input">
            <input id=id name=id type=move || if shown.get() { "text" } else { "password" } autocomplete="off" spellcheck="false"
                placeholder=move || placeholder.get()
                aria-invalid=move || message.with(Option::is_some).then_some("true")
                aria-describedby=error_id.clone()
                prop:value=move || field.value.get()
                on:input=handler(move |ev: leptos::ev::Event| { field.server_error.set(None); field.value.set(event_target_value(&ev)) }) />
            <button type="button" class="button quiet" aria-controls=id aria-pressed=move || shown.get().to_string()
                aria-label=move || format!("{} {label}", if shown.get() { "Hide" } else { "Show" })
                on:click=handler(move |_| shown.update(|s| *s = !*s))>
                {move || if shown.get() { "Hide" } else { "Show" }}
            </button>
        </div>
        <FieldMessage id=error_id message />
    }
}

/// A choice among `options` (value, label); `value` is the chosen one's,
/// and `changed` hears each new choice.
#[component]
pub fn SelectField(
    label: &'static str,
    name: &'static str,
    options: Vec<(String, &'static str)>,
    value: Signal<String>,
    changed: Callback<String>,
    /// Set: the label stands above the list (a form's column); without
    /// one the label wraps the list (filters in a row).
    #[prop(optional)]
    id: Option<&'static str>,
) -> impl IntoView {
    let select = view! {
        <select id=id name=name prop:value=move || value.get()
            on:change=handler(move |ev: leptos::ev::Event| changed.run(event_target_value(&ev)))>
            {options
                .into_iter()
                .map(|(option, text)| {
                    let chosen = option.clone();
                    view! { <option value=option selected=move || value.with(|v| *v == chosen)>{text}</option> }
                })
                .collect_view()}
        </select>
    };
    match id {
        Some(id) => view! { <label for=id>{label}</label>{select} }.into_any(),
        None => view! { <label>{label}{select}</label> }.into_any(),
    }
}
