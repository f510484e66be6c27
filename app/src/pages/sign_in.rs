//! `/sign-in`: email and password; then back where the person was going.

use herald_model::account::SignIn as SignInForm;
use herald_model::redirect::local_path;
use leptos::prelude::*;

use crate::api;
use crate::auth::{Auth, Session};
use crate::components::fields::{Field, TextField};
use crate::components::notice::FormError;
use crate::components::{Submit, handler};
use crate::router;

/// Only paths on this site: `next` must not send people elsewhere.
fn safe_next(next: Option<String>) -> String {
    next.as_deref().and_then(local_path).filter(|path| !path.starts_with("/sign-in")).unwrap_or("/destinations").to_owned()
}

#[component]
pub fn SignIn() -> impl IntoView {
    crate::components::title::set_title("Sign in");
    let auth = Auth::get();
    let email = Field::new(String::new());
    let password = Field::new(String::new());
    let error = RwSignal::new(None::<String>);
    let submitting = Submit::new();

    // Already signed in (or just signed in): go on.
    Effect::new(move |_| {
        if matches!(auth.session.get(), Session::SignedIn(_)) {
            // In place of the sign-in page: Back does not return to it.
            let next = safe_next(untrack(|| router::query("next")));
            router::navigate_with(&next, router::Go { replace: true, scroll: true });
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if submitting.busy() {
            return;
        }
        error.set(None);
        let form = SignInForm { email: email.value.get_untracked(), password: password.value.get_untracked() };
        submitting.run(async move {
            match api::sign_in(&form).await {
                Ok(me) => auth.session.set(Session::SignedIn(me)),
                Err(err) => {
                    error.set(Some(err.message));
                    password.value.set(String::new());
                }
            }
        });
    };

    view! {
        <section class="page narrow">
            <h1>"Sign in to Herald"</h1>
            <form class="form" on:submit=handler(submit)>
                <TextField id="email" label="Email" field=email input_type="email" autocomplete="username" required=true />
                <TextField id="password" label="Password" field=password input_type="password" autocomplete="current-password" required=true />
                <FormError error=error.into() />
                <button type="submit" class="button primary" disabled=move || submitting.pending()>
                    {move || if submitting.pending() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
            <p class="hint">"No account yet? An admin creates it under Users."</p>
        </section>
    }
}
