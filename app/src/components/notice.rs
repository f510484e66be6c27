//! Loading and error notices, the same on every page.

use std::future::Future;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::ApiError;
use crate::components::handler;

/// A request's answer for a page: asked for when made, and again by
/// [`Loader::reloader`], which keeps what is shown until the new answer
/// comes. A signal and a callback: leptos' `LocalResource` did the same
/// with ~2 KiB of wasm for each answer type.
pub struct Loader<T: Send + Sync + 'static> {
    answer: RwSignal<Option<Result<T, ApiError>>>,
    reload: Callback<()>,
}

impl<T: Send + Sync + 'static> Clone for Loader<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Loader<T> {}

impl<T: Send + Sync + 'static> Loader<T> {
    pub fn new<F: Future<Output = Result<T, ApiError>> + 'static>(fetch: impl Fn() -> F + Send + Sync + 'static) -> Self {
        let answer = RwSignal::new(None);
        let reload = Callback::new(move |()| {
            let answered = fetch();
            spawn_local(async move { answer.set(Some(answered.await)) });
        });
        reload.run(());
        Loader { answer, reload }
    }

    /// The answer, once it came; tracked.
    pub fn get(self) -> Option<Result<T, ApiError>>
    where
        T: Clone,
    {
        self.answer.get()
    }

    /// Asks again, for a "Try again" button or after a change.
    pub fn reloader(self) -> Callback<()> {
        self.reload
    }
}

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
            <button type="button" class="button" on:click=handler(move |_| retry.run(()))>"Try again"</button>
        </div>
    }
}

/// A request's answer on a page: a loading line until it comes, then
/// `show(answer)`, or the error with "Try again". One plain reactive
/// closure rather than a `<Suspense>` per page: the same behaviour for
/// a fraction of the wasm.
pub fn loaded<T: Clone + Send + Sync + 'static>(
    what: &'static str,
    loader: Loader<T>,
    show: impl Fn(T) -> AnyView + Send + 'static,
) -> impl IntoView {
    move || match loader.get() {
        None => view! { <Loading what /> }.into_any(),
        Some(Ok(answer)) => show(answer),
        Some(Err(error)) => view! { <ErrorNotice error retry=loader.reloader() /> }.into_any(),
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
