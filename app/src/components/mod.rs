//! Pieces several pages use.

pub mod copy;
pub mod destination_form;
pub mod fields;
pub mod notice;
pub mod shell;
pub mod title;

/// An event handler as the one type all handlers of an event share:
/// `on:click=handler(move |_| …)`. The view code that attaches, clones and
/// type-erases handlers is then one copy per kind of event rather than one
/// per handler.
pub fn handler<E: 'static>(f: impl FnMut(E) + 'static) -> Box<dyn FnMut(E)> {
    Box::new(f)
}

/// One submit at a time: [`Submit::run`] starts the work unless some is
/// still running, and [`Submit::pending`] says so while it runs (to turn
/// the button into "Saving…"). Leptos' `Action` does the same, but its
/// first use added 5 kB to the download, which is over the budget.
#[derive(Clone, Copy)]
pub struct Submit {
    pending: leptos::prelude::RwSignal<bool>,
}

impl Submit {
    pub fn new() -> Submit {
        Submit { pending: leptos::prelude::RwSignal::new(false) }
    }

    pub fn pending(self) -> bool {
        use leptos::prelude::Get as _;
        self.pending.get()
    }

    /// Whether work is running, without subscribing to it.
    pub fn busy(self) -> bool {
        use leptos::prelude::GetUntracked as _;
        self.pending.get_untracked()
    }

    /// Runs `work` in the background, unless work is running already.
    pub fn run(self, work: impl std::future::Future<Output = ()> + 'static) {
        use leptos::prelude::Set as _;
        if self.busy() {
            return;
        }
        self.pending.set(true);
        leptos::task::spawn_local(async move {
            work.await;
            self.pending.set(false);
        });
    }
}
