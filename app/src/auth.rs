//! Who is signed in, for every page: checked once at start, changed by
//! signing in and out, and cleared when the server says the session ended.

use crate::api::{self, ApiError};
use crate::components::notice::{ErrorNotice, Loading};
use crate::router;
use herald_model::account::{Me, Permission};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[derive(Debug, Clone, PartialEq)]
pub enum Session {
    Checking,
    SignedOut,
    SignedIn(Me),
    /// The check itself failed (server unreachable, …).
    Failed(ApiError),
}

/// Shared through context; cheap to copy.
#[derive(Clone, Copy)]
pub struct Auth {
    pub session: RwSignal<Session>,
}

impl Auth {
    pub fn provide() -> Auth {
        let auth = Auth { session: RwSignal::new(Session::Checking) };
        provide_context(auth);
        api::on_session_ended(move || auth.session_ended());
        auth.check();
        auth
    }

    pub fn get() -> Auth {
        expect_context::<Auth>()
    }

    /// Asks the server who is signed in.
    pub fn check(self) {
        self.session.set(Session::Checking);
        spawn_local(async move {
            let session = match api::me().await {
                Ok(me) => Session::SignedIn(me),
                Err(err) if err.is_unauthenticated() => Session::SignedOut,
                Err(err) => Session::Failed(err),
            };
            self.session.set(session);
        });
    }

    pub fn me(self) -> Option<Me> {
        match self.session.get() {
            Session::SignedIn(me) => Some(me),
            _ => None,
        }
    }

    pub fn may(self, permission: Permission) -> bool {
        self.me().is_some_and(|me| me.may(permission))
    }

    /// Called when any request answers 401: the session is over.
    pub fn session_ended(self) {
        self.session.set(Session::SignedOut);
    }
}

/// Shows `page` to signed-in users with `permission`; sends everyone else
/// to sign in, and back here afterwards.
pub fn protected(permission: Permission, page: impl Fn() -> AnyView + Send + Sync + 'static) -> AnyView {
    guard(permission, std::sync::Arc::new(page))
}

/// One copy for every page.
fn guard(permission: Permission, page: std::sync::Arc<dyn Fn() -> AnyView + Send + Sync>) -> AnyView {
    let auth = Auth::get();
    let location = router::location();
    (move || match auth.session.get() {
        Session::Checking => view! { <Loading what="your session" /> }.into_any(),
        Session::SignedOut => {
            let path = location.path.get_untracked();
            // Back to the page asked for, never to the sign-in page itself.
            let target = if path.starts_with("/sign-in") {
                "/sign-in".to_owned()
            } else {
                let here = format!("{path}{}", location.search.get_untracked());
                format!("/sign-in?next={}", String::from(js_sys::encode_uri_component(&here)))
            };
            router::redirect(target);
            ().into_any()
        }
        Session::Failed(error) => view! { <ErrorNotice error retry=Callback::new(move |()| auth.check()) /> }.into_any(),
        Session::SignedIn(me) if !me.may(permission) => view! {
            <section class="page">
                <h1>"Not available to your role"</h1>
                <p class="notice">
                    {format!(
                        "This page needs {}, which your role ({}) does not include. Ask an admin.",
                        permission.label(),
                        me.user.role.label(),
                    )}
                </p>
            </section>
        }
        .into_any(),
        Session::SignedIn(_) => page(),
    })
    .into_any()
}
