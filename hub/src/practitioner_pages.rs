//! Practitioner mode's pages, rendered on the hub: the start page (forms
//! to start, drafts to resume, sync status), the context page (the area's
//! lists as select elements), the shell the web form runs in, and the page
//! the practitioner sees once the respondent hands back (the form's
//! safeguarding guidance, never the answers). Plain HTML; every value
//! written into a page is escaped here.

use hark_core::form::FlagLevel;
use hark_core::lists::{AreaLists, ListDim};
use hark_core::response::Status;

use super::context::MAX_OCCASION;
use super::pages::{esc, when};
use super::practitioner::{Draft, OfferedForm, Outcome, SyncStatus};

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/assets/form.css\">\
         </head><body class=\"hub practitioner\"><main id=\"main\">{body}</main></body></html>\n",
        title = esc(title),
    )
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn sync_section(status: &SyncStatus, message: Option<&str>) -> String {
    let message = message.map_or(String::new(), |m| {
        format!("<p class=\"message\" role=\"status\">{}</p>", esc(m))
    });
    let Some((server, area)) = &status.enrolled else {
        return format!(
            "<section aria-labelledby=\"sync-title\" class=\"panel\"><h2 id=\"sync-title\">Sync</h2>\
             <p class=\"problem\">This device is not enrolled with a server yet: run \
             <code>hark hub --practitioner --store DIR --server URL --enrol-code CODE</code> \
             while online.</p>{message}</section>"
        );
    };
    let last = status.last_sync.map_or_else(
        || "Not synced yet.".to_owned(),
        |t| format!("Last synced {}.", when(t)),
    );
    format!(
        "<section aria-labelledby=\"sync-title\" class=\"panel\"><h2 id=\"sync-title\">Sync</h2>\
         <p>Area <strong>{area}</strong>, server <span class=\"url\">{server}</span>.</p>\
         <p id=\"last-sync\">{last}</p>\
         <p><strong id=\"waiting\">{waiting}</strong> waiting to sync.</p>{message}\
         <form method=\"post\" action=\"/sync\"><button type=\"submit\" class=\"primary\">Sync now</button></form>\
         </section>",
        area = esc(area),
        server = esc(server),
        waiting = plural(status.waiting, "response", "responses"),
    )
}

/// The start page.
pub(super) fn start(
    forms: &[OfferedForm],
    drafts: &[Draft],
    status: &SyncStatus,
    message: Option<&str>,
) -> String {
    let items: String = forms
        .iter()
        .map(|f| {
            format!(
                "<li><a class=\"choose\" href=\"/new/{id}\">{title}<span class=\"who\">{who}</span></a></li>",
                id = esc(&f.id),
                title = esc(&f.title),
                who = if f.child { "child mode" } else { "adult" },
            )
        })
        .collect();
    let drafts_html = if drafts.is_empty() {
        "<p>No drafts: every response started here is finished.</p>".to_owned()
    } else {
        let rows: String = drafts
            .iter()
            .map(|d| {
                let context = if d.context.is_empty() {
                    "no context recorded".to_owned()
                } else {
                    d.context.join(" · ")
                };
                format!(
                    "<li><a class=\"choose\" href=\"/responses/{id}\">{title}\
                     <span class=\"who\">{context}</span>\
                     <span class=\"who\">Started {started}, {answered}</span></a></li>",
                    id = esc(&d.id),
                    title = esc(&d.title),
                    context = esc(&context),
                    started = esc(&when(d.started)),
                    answered = plural(d.answered, "answer", "answers"),
                )
            })
            .collect();
        format!("<ul class=\"forms drafts\">{rows}</ul>")
    };
    page(
        "Practitioner",
        &format!(
            "<h1>Practitioner</h1>\
             <section aria-labelledby=\"drafts-title\"><h2 id=\"drafts-title\">Drafts to resume</h2>\
             {drafts_html}</section>\
             <section aria-labelledby=\"forms-title\"><h2 id=\"forms-title\">Start a survey</h2>\
             <ul class=\"forms\">{items}</ul></section>{sync}",
            sync = sync_section(status, message),
        ),
    )
}

fn select(dim: ListDim, title: &str, lists: Option<&AreaLists>) -> String {
    let name = dim.as_str();
    let options: String = lists
        .map(|l| l.list(dim))
        .unwrap_or_default()
        .iter()
        .map(|i| {
            format!(
                "<option value=\"{}\">{}</option>",
                esc(&i.id),
                esc(&i.label)
            )
        })
        .collect();
    format!(
        "<label for=\"{name}\">{title}</label>\
         <select id=\"{name}\" name=\"{name}\"><option value=\"\">Not recorded</option>{options}</select>"
    )
}

/// The context page for `form`.
pub(super) fn context(
    form: &OfferedForm,
    lists: Option<&AreaLists>,
    problem: Option<&str>,
) -> String {
    let problem = problem.map_or(String::new(), |p| {
        format!("<p class=\"problem\" role=\"alert\">{}</p>", esc(p))
    });
    let missing = if lists.is_none() {
        "<p class=\"problem\">The area's lists have not arrived yet: sync once while online.</p>"
    } else {
        ""
    };
    page(
        "Before you start",
        &format!(
            "<h1>{title}</h1><p>Record where and how this survey is taken. Choose from the \
             area's lists; leave anything you do not know as “Not recorded”.</p>\
             {missing}{problem}\
             <form method=\"post\" action=\"/new/{id}\" class=\"join context\">\
             {setting}{age}{need}{pathway}\
             <label for=\"occasion\">Occasion</label>\
             <p class=\"hint\" id=\"occasion-hint\">A few words, such as “home visit”. Never a name.</p>\
             <input id=\"occasion\" name=\"occasion\" maxlength=\"{MAX_OCCASION}\" \
              autocomplete=\"off\" aria-describedby=\"occasion-hint\">\
             <div class=\"nav\"><a class=\"button\" href=\"/\">Back</a>\
             <button type=\"submit\" class=\"primary\">Continue</button></div></form>",
            title = esc(&form.title),
            id = esc(&form.id),
            setting = select(ListDim::Setting, "Setting", lists),
            age = select(ListDim::AgePhase, "Age phase", lists),
            need = select(ListDim::Need, "Need", lists),
            pathway = select(ListDim::Pathway, "Pathway", lists),
        ),
    )
}

/// The page the web form runs in, over one draft.
pub(super) fn form_shell(id: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Survey</title><link rel=\"stylesheet\" href=\"/assets/form.css\"></head>\
         <body><main><div id=\"app\" data-mode=\"practitioner\" \
         data-form-url=\"/api/practitioner/responses/{id}\" \
         data-submit-url=\"/api/practitioner/responses/{id}/submit\" \
         data-done=\"/responses/{id}/done\" data-home=\"/\">\
         <p class=\"loading\">Loading the survey…</p></div>\
         <div id=\"live\" class=\"sr-only\" aria-live=\"polite\"></div></main>\
         <noscript><p>This survey needs JavaScript switched on.</p></noscript>\
         <script src=\"/assets/form.js\"></script></body></html>\n",
        id = esc(id),
    )
}

/// What the practitioner sees after the hand-back.
pub(super) fn outcome(id: &str, outcome: &Outcome) -> String {
    let body = match outcome.status {
        Status::Submitted if outcome.guidance.is_empty() => {
            "<p class=\"message\" role=\"status\">Saved. No safeguarding prompt was raised.</p>"
                .to_owned()
        }
        Status::Submitted => {
            let items: String = outcome
                .guidance
                .iter()
                .map(|g| {
                    let (class, level) = match g.level {
                        FlagLevel::Urgent => ("urgent", "Urgent"),
                        FlagLevel::Concern => ("concern", "Concern"),
                    };
                    format!(
                        "<li class=\"guidance {class}\"><p class=\"level\">{level}</p><p>{}</p></li>",
                        esc(&g.text)
                    )
                })
                .collect();
            format!(
                "<div role=\"alert\"><h2>Safeguarding: act on this now</h2>\
                 <p>The answers raised {}. This is what the form says to do:</p></div>\
                 <ul class=\"guidance-list\">{items}</ul>\
                 <p>The response goes first at the next sync, to the area's safeguarding list.</p>",
                match outcome.guidance.len() {
                    1 => "a safeguarding prompt".to_owned(),
                    n => format!("{n} safeguarding prompts"),
                }
            )
        }
        Status::Draft => format!(
            "<p>{why} It is kept as a draft on this device until you resume or delete it.</p>\
             <div class=\"nav\"><a class=\"button\" href=\"/responses/{id}\">Resume</a>\
             <form method=\"post\" action=\"/responses/{id}/discard\">\
             <button type=\"submit\">Delete this draft</button></form></div>",
            id = esc(id),
            why = if outcome.refused {
                "This response was not sent: consent or assent was refused."
            } else {
                "This response was not sent: it was stopped part-way."
            },
        ),
    };
    page(
        "Back to you",
        &format!(
            "<h1>{title}</h1>{body}<p><a class=\"button primary\" href=\"/\">Back to the start</a></p>",
            title = esc(&outcome.title),
        ),
    )
}

/// A short page with a message and a way back.
pub(super) fn notice(title: &str, text: &str) -> String {
    page(
        title,
        &format!(
            "<h1>{}</h1><p>{}</p><p><a href=\"/\">Back to the start</a></p>",
            esc(title),
            esc(text)
        ),
    )
}
