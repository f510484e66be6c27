//! Loading and error notices, the same on every page.

use leptos::prelude::*;

use crate::api::ApiError;

#[component]
pub fn Loading(#[prop(into)] what: String) -> impl IntoView {
    view! { <p class="notice loading" role="status">{format!("Loading {what}…")}</p> }
}

/// Says what failed and offers to try again. (An ended session has already
/// sent the person to sign in: see `api::on_session_ended`.)
#[component]
pub fn ErrorNotice(error: ApiError, retry: Callback<()>) -> impl IntoView {
    view! {
        <div class="notice error" role="alert">
            <p>{error.message}</p>
            <button type="button" class="button" on:click=move |_| retry.run(())>"Try again"</button>
        </div>
    }
}

/// A request's answer on a page: a loading line until it comes, then
/// `show(answer)`, or the error with "Try again". One plain reactive
/// closure rather than a `<Suspense>` per page: the same behaviour for
/// a fraction of the wasm.
pub fn loaded<T: Clone + 'static>(
    what: &'static str,
    resource: LocalResource<Result<T, ApiError>>,
    show: impl Fn(T) -> AnyView + Send + 'static,
) -> impl IntoView {
    move || match resource.get() {
        None => view! { <Loading what /> }.into_any(),
        Some(Ok(answer)) => show(answer),
        Some(Err(error)) => view! { <ErrorNotice error retry=Callback::new(move |()| resource.refetch()) /> }.into_any(),
    }
}

/// What came of the last thing done on a page, good or bad.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub ok: bool,
    pub message: String,
}

/// The page's one outcome line: a later success replaces an earlier
/// refusal, never stands under it.
#[component]
pub fn OutcomeNotice(outcome: RwSignal<Option<Outcome>>) -> impl IntoView {
    move || {
        outcome.get().map(|o| {
            let class = if o.ok { "notice success outcome" } else { "notice error outcome" };
            view! { <p class=class role="status">{o.message}</p> }
        })
    }
}

/// A form-level problem, or nothing.
#[component]
pub fn FormError(error: Signal<Option<String>>) -> impl IntoView {
    move || error.get().map(|message| view! { <p class="notice error" role="alert">{message}</p> })
}

/// Moves the keyboard focus to the first field marked invalid, once the
/// page shows the marks: after a refused save, the person starts there.
pub fn focus_first_invalid() {
    request_animation_frame(|| {
        use wasm_bindgen::JsCast as _;
        let first = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.query_selector("[aria-invalid=true]").ok().flatten())
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(field) = first {
            let _ = field.focus();
        }
    });
}

/// The problem with one field, shown under it.
#[component]
pub fn FieldMessage(#[prop(into)] id: String, message: Signal<Option<String>>) -> impl IntoView {
    move || message.get().map(|m| view! { <p class="field-error" id=id.clone()>{m}</p> })
}
