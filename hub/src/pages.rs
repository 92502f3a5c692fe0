//! The hub's own pages, rendered on the hub: the join page (a QR code of
//! the hub's address, as SVG, and the box for the event code), the list of
//! forms a joined phone may answer, the shell the web form runs in, and the
//! organiser's page (the code, the QR, the live count and the sync button).
//! Plain HTML; every value written into a page is escaped here.

use qrcode::QrCode;
use qrcode::render::svg;

use super::event::Event;

/// A time as a person reads it (UTC, to the minute): the practitioner's
/// pages, and `hark device status`.
pub fn when(ms: i64) -> String {
    let format = time::macros::format_description!(
        "[day padding:none] [month repr:short] [year], [hour]:[minute] UTC"
    );
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

/// Escapes text for HTML content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, body: &str, live_count: bool) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/assets/form.css\">\
         </head><body class=\"hub\"><main id=\"main\">{body}</main>{script}</body></html>\n",
        title = esc(title),
        script = if live_count {
            "<script src=\"/assets/organiser.js\"></script>"
        } else {
            ""
        },
    )
}

/// The QR code of `url` as an SVG element (no XML declaration), labelled
/// for screen readers.
pub(super) fn qr_svg(url: &str) -> String {
    let Ok(code) = QrCode::new(url.as_bytes()) else {
        return String::new();
    };
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    let svg = image.find("<svg").map_or("", |at| &image[at..]);
    svg.replacen(
        "<svg ",
        &format!(
            "<svg class=\"qr\" role=\"img\" aria-label=\"QR code of {}\" ",
            esc(url)
        ),
        1,
    )
}

/// The page a phone opens first.
pub(super) fn join(event: &Event, problem: Option<&str>) -> String {
    let problem = problem.map_or(String::new(), |p| {
        format!(
            "<p class=\"problem\" role=\"alert\" id=\"code-problem\">{}</p>",
            esc(p)
        )
    });
    let described = if problem.is_empty() {
        ""
    } else {
        " aria-describedby=\"code-problem\" aria-invalid=\"true\""
    };
    page(
        "Join the survey",
        &format!(
            "<h1>{name}</h1>\
             <p>Answer a short survey on your own phone. Nothing you say has your name on it.</p>\
             <form method=\"post\" action=\"/join\" class=\"join\">\
             <label for=\"code\">Event code (on the organiser's screen)</label>\
             <input id=\"code\" name=\"code\" autocomplete=\"off\" autocapitalize=\"characters\" \
              spellcheck=\"false\" required maxlength=\"32\"{described}>\
             {problem}<button type=\"submit\" class=\"primary\">Join</button></form>\
             <figure class=\"share\">{qr}<figcaption>Someone else can scan this to open \
             <span class=\"url\">{url}</span></figcaption></figure>",
            name = esc(&event.name),
            qr = qr_svg(&event.url),
            url = esc(&event.url),
        ),
        false,
    )
}

/// One offered form: id, title, audience name.
pub(super) struct Offered {
    pub id: String,
    pub title: String,
    pub child: bool,
}

/// The forms a joined phone may answer.
pub(super) fn forms(event: &Event, offered: &[Offered]) -> String {
    let items: String = offered
        .iter()
        .map(|f| {
            format!(
                "<li><a class=\"choose{child}\" href=\"/form/{id}\">{title}</a></li>",
                id = esc(&f.id),
                title = esc(&f.title),
                child = if f.child { " child" } else { "" },
            )
        })
        .collect();
    page(
        "Choose a survey",
        &format!(
            "<h1>{}</h1><p>Choose a survey to answer.</p><ul class=\"forms\">{items}</ul>",
            esc(&event.name)
        ),
        false,
    )
}

/// The shell the web form runs in (`form.js` reads the data attributes).
pub(super) fn form_shell(form_id: &str) -> String {
    form_shell_at(
        &format!("/api/hub/forms/{form_id}"),
        "/api/hub/submit",
        "/forms",
    )
}

/// The page hark's web form runs in: it fetches the form from `form_url`,
/// posts the answers to `submit_url`, and offers `home` at the end.
pub fn form_shell_at(form_url: &str, submit_url: &str, home: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Survey</title><link rel=\"stylesheet\" href=\"/assets/form.css\"></head>\
         <body><main><div id=\"app\" data-form-url=\"{form}\" \
         data-submit-url=\"{submit}\" data-home=\"{home}\">\
         <p class=\"loading\">Loading the survey…</p></div>\
         <div id=\"live\" class=\"sr-only\" aria-live=\"polite\"></div></main>\
         <noscript><p>This survey needs JavaScript switched on.</p></noscript>\
         <script src=\"/assets/form.js\"></script></body></html>\n",
        form = esc(form_url),
        submit = esc(submit_url),
        home = esc(home)
    )
}

/// What the organiser sees.
pub(super) struct Status {
    pub submitted: usize,
    pub flagged: usize,
    pub waiting: usize,
    pub enrolled: Option<String>,
    /// When the hub last synced with the server (ms since the epoch).
    pub last_sync: Option<i64>,
}

/// The organiser's page; `organiser.js` keeps the count live.
pub(super) fn organiser(event: &Event, status: &Status, message: Option<&str>) -> String {
    let message = message.map_or(String::new(), |m| {
        format!("<p class=\"message\" role=\"status\">{}</p>", esc(m))
    });
    let server = status.enrolled.as_ref().map_or_else(
        || "<p class=\"problem\">Not enrolled with a server yet.</p>".to_owned(),
        |s| {
            let last = status.last_sync.map_or_else(
                || "not synced yet".to_owned(),
                |t| format!("last synced {}", when(t)),
            );
            format!(
                "<p>Syncs to <span class=\"url\">{}</span>, <span id=\"last-sync\">{}</span>.</p>",
                esc(s),
                esc(&last)
            )
        },
    );
    let flagged = if status.flagged > 0 {
        format!(
            "<p class=\"problem\">{} answer{} raised a safeguarding flag: the area's \
             safeguarding team sees {} after the next sync.</p>",
            status.flagged,
            if status.flagged == 1 { "" } else { "s" },
            if status.flagged == 1 { "it" } else { "them" },
        )
    } else {
        String::new()
    };
    page(
        "Hub",
        &format!(
            "<h1>{name}</h1>\
             <div class=\"organiser\"><figure class=\"share\">{qr}\
             <figcaption>Scan, or open <span class=\"url\">{url}</span></figcaption></figure>\
             <div><p>Event code</p><p class=\"code\" id=\"event-code\">{code}</p>\
             <p class=\"count\" aria-live=\"polite\"><span id=\"submitted\">{submitted}</span> \
             <span id=\"responses-noun\">response{s}</span> collected</p>\
             <p><span id=\"waiting\">{waiting}</span> waiting to sync.</p>{flagged}{server}{message}\
             <form method=\"post\" action=\"/organiser/sync\">\
             <button type=\"submit\" class=\"primary\">Sync now</button></form></div></div>",
            name = esc(&event.name),
            qr = qr_svg(&event.url),
            url = esc(&event.url),
            code = esc(&event.code),
            submitted = status.submitted,
            s = if status.submitted == 1 { "" } else { "s" },
            waiting = status.waiting,
        ),
        true,
    )
}

/// A short page with a message and a link on.
pub(super) fn notice(title: &str, text: &str, link: (&str, &str)) -> String {
    page(
        title,
        &format!(
            "<h1>{}</h1><p>{}</p><p><a href=\"{}\">{}</a></p>",
            esc(title),
            esc(text),
            esc(link.0),
            esc(link.1)
        ),
        false,
    )
}
