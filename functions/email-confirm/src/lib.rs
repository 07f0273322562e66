//! email-confirm: the page behind the email link. GET shows it and changes nothing (mail
//! scanners fetch links); its buttons POST and confirm, or decline (`action=decline`).

mod form;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::get;
use consent::evidence::keys_used::KeysUsed;
use consent::flows::Services;
use consent::flows::email_confirm::{ConfirmError, ConfirmResult, ConfirmationView, DeclineResult};
use consent::limits::{MAX_TOKEN_LEN, MAX_USER_AGENT_LEN};
use consent::model::record::ConsentStatus;
use consent_http::{MAX_BODY_BYTES, Page, escape, html_page};
use form::{Action, action_of};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The keys this function reads at cold start: the token keys, which verify the confirmation links.
pub const KEYS_USED: KeysUsed = KeysUsed::TOKENS;

/// The client address as the platform reports it (API Gateway's source IP, or the socket).
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

/// What `router` serves, as (method, path): the SAM template must route exactly these here.
pub const ROUTES: &[(&str, &str)] = &[("GET", "/confirm/{token}"), ("POST", "/confirm/{token}")];

/// The email-confirm routes, each registered with its documentation (for [`operations`]).
fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new().routes(routes!(show, confirm))
}

/// The email-confirm routes, as [`ROUTES`] lists them, on a plain axum router: `routes()`
/// would build the operations' documentation at every cold start, for a document no function
/// serves.
pub fn router(services: Services) -> Router {
    Router::new()
        .route("/confirm/{token}", get(show).post(confirm))
        .layer(consent_http::body_limit())
        .with_state(services)
}

/// The OpenAPI operations of [`router`] and the schemas they use.
pub fn operations() -> utoipa::openapi::OpenApi {
    routes().into_openapi()
}

/// The page's form, as its buttons post it (documentation: the handler reads the body itself,
/// whatever type the client claims).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConfirmForm {
    /// The button pressed: `confirm` (also when absent) or `decline`.
    pub action: Option<FormAction>,
}

/// The two buttons of the page.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FormAction {
    /// "Yes, text me".
    Confirm,
    /// "This isn't me / No thanks".
    Decline,
}

/// The token in the link, or `None` for a path segment that is not text: a link no one sent.
fn token_of(path: Result<Path<String>, PathRejection>) -> Option<String> {
    path.ok()
        .map(|Path(token)| token)
        .filter(|token| token.len() <= MAX_TOKEN_LEN)
}

fn invalid_page() -> Page {
    html_page(
        StatusCode::BAD_REQUEST,
        "This link is not valid",
        "<p>We could not read this confirmation link. It may have been copied incompletely.</p>\
         <p>You can still confirm by replying <strong>YES</strong> to the text message we sent you.</p>",
    )
}

fn expired_page() -> Page {
    html_page(
        StatusCode::GONE,
        "This link has expired",
        "<p>Confirmation links work for a limited time, and this one has expired.</p>\
         <p>You can still confirm by replying <strong>YES</strong> to the text message we sent you.</p>",
    )
}

fn error_page(error: ConfirmError) -> Page {
    match error {
        ConfirmError::Invalid => invalid_page(),
        ConfirmError::Expired => expired_page(),
        ConfirmError::Flow(e) => {
            tracing::error!(error = ?e, "email confirmation failed");
            html_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Please try again",
                "<p>Something went wrong on our side. Please try again in a minute.</p>",
            )
        }
    }
}

/// The page behind the email link: it names the firm, the masked number and what the texts
/// are, and offers the two buttons. It changes nothing (mail scanners fetch links).
#[utoipa::path(
    get,
    path = "/confirm/{token}",
    tag = "confirmation page",
    operation_id = "showConfirmationPage",
    params(("token" = String, Path, description = "The opaque signed token from the email link.")),
    responses(
        (status = 200, description = "The page: confirm and decline buttons (or, for a number \
            already answered, where it stands).", body = String, content_type = "text/html"),
        (status = 400, description = "A tampered, malformed or unknown link.", body = String,
            content_type = "text/html"),
        (status = 410, description = "An expired link (they last 14 days).", body = String,
            content_type = "text/html"),
        (status = 503, description = "The service cannot answer now; try again.", body = String,
            content_type = "text/html"),
    )
)]
async fn show(State(services): State<Services>, path: Result<Path<String>, PathRejection>) -> Page {
    let Some(token) = token_of(path) else {
        return invalid_page();
    };
    match services.view_confirmation(&token).await {
        Ok(view) => confirm_form(&view),
        Err(error) => error_page(error),
    }
}

/// What the texts are, as CTIA asks a consent page to say: who, about what, how often, the
/// cost, how to stop and get help, and the firm's privacy policy and terms.
fn disclosures(view: &ConfirmationView) -> String {
    let mut links = Vec::new();
    for (label, url) in [
        ("Privacy policy", &view.privacy_url),
        ("Messaging terms", &view.terms_url),
    ] {
        if let Some(url) = url {
            links.push(format!(
                "<a href=\"{}\" rel=\"noreferrer\">{label}</a>",
                escape(url)
            ));
        }
    }
    let links = if links.is_empty() {
        String::new()
    } else {
        format!("<p class=\"muted\">{}</p>", links.join(" &middot; "))
    };
    format!(
        "<ul class=\"muted\">\
         <li>Texts about your legal matter: appointments, court dates, documents and updates.</li>\
         <li>Message frequency varies.</li>\
         <li>Msg &amp; data rates may apply.</li>\
         <li>Reply STOP to any text to opt out, HELP for help.</li>\
         <li>Questions: {} or {}.</li></ul>{links}",
        escape(&view.support_phone),
        escape(&view.support_email),
    )
}

/// The masked number as the pages show it: a screen reader says "the number ending in 0134"
/// rather than the mask's "star star star".
fn spoken_number(view: &ConfirmationView) -> String {
    format!(
        "<span aria-hidden=\"true\">{}</span><span class=\"visually-hidden\">the number ending in {}</span>",
        escape(&view.phone_masked),
        escape(&view.phone_last_four),
    )
}

fn confirm_form(view: &ConfirmationView) -> Page {
    let firm = escape(&view.firm_name);
    let phone = spoken_number(view);
    let body = match view.status {
        ConsentStatus::OptedIn => format!(
            "<p>Texts from <strong>{firm}</strong> to {phone} are already confirmed. Nothing more to do.</p>\
             <form method=\"post\" aria-label=\"Stop texts\">\
             <button type=\"submit\" name=\"action\" value=\"decline\" class=\"secondary\">Stop these texts</button></form>{}",
            disclosures(view)
        ),
        ConsentStatus::OptedOut => format!(
            "<p>{phone} is unsubscribed from texts from <strong>{firm}</strong>.</p>\
             <p>To receive texts again, reply <strong>START</strong> to our last text message: \
             after a STOP, carriers only let a text from you re-subscribe.</p>"
        ),
        ConsentStatus::Pending => format!(
            "<p><strong>{firm}</strong> would like to send text messages to {phone}.</p>{}\
             <form method=\"post\" aria-label=\"Your answer\">\
             <button type=\"submit\" name=\"action\" value=\"confirm\">Yes, text me</button>\
             <button type=\"submit\" name=\"action\" value=\"decline\" class=\"secondary\">This isn't me / No thanks</button>\
             </form>",
            disclosures(view)
        ),
    };
    html_page(StatusCode::OK, "Confirm text messages", &body)
}

fn too_large_page() -> Page {
    html_page(
        StatusCode::PAYLOAD_TOO_LARGE,
        "This request is too large",
        "<p>Your browser sent more than this page's buttons ever send. Please open the link \
         from the email again and press a button.</p>",
    )
}

fn unknown_choice_page() -> Page {
    html_page(
        StatusCode::UNPROCESSABLE_ENTITY,
        "We could not tell which button you pressed",
        "<p>Nothing was changed. Please open the link from the email again and press \
         <strong>Yes, text me</strong> or <strong>No thanks</strong>.</p>",
    )
}

/// The page's buttons: confirm (opted in, a confirmation SMS sent) or decline (opted out,
/// nothing sent). Pressing again answers "already confirmed" or "already declined".
#[utoipa::path(
    post,
    path = "/confirm/{token}",
    tag = "confirmation page",
    operation_id = "answerConfirmationPage",
    params(("token" = String, Path, description = "The opaque signed token from the email link.")),
    request_body(content = inline(ConfirmForm), content_type = "application/x-www-form-urlencoded",
        description = "The button pressed; no body at all is a confirm."),
    responses(
        (status = 200, description = "Confirmed, declined, already so, or (after a STOP) \
            unsubscribed: a text re-subscribes.", body = String, content_type = "text/html"),
        (status = 400, description = "A tampered, malformed or unknown link.", body = String,
            content_type = "text/html"),
        (status = 410, description = "An expired link.", body = String, content_type = "text/html"),
        (status = 413, description = "A body larger than the form ever sends.", body = String,
            content_type = "text/html"),
        (status = 422, description = "An `action` other than `confirm` or `decline`: nothing \
            changed.", body = String, content_type = "text/html"),
        (status = 503, description = "The service cannot answer now; try again.", body = String,
            content_type = "text/html"),
    )
)]
async fn confirm(
    State(services): State<Services>,
    path: Result<Path<String>, PathRejection>,
    request: Request,
) -> Page {
    let Some(token) = token_of(path) else {
        return invalid_page();
    };
    let ip = client_ip(&request);
    let user_agent = user_agent(request.headers());
    let Ok(body) = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES).await else {
        return too_large_page();
    };
    match action_of(&body) {
        Some(Action::Confirm) => match services.confirm_email(&token, ip, user_agent).await {
            Ok((view, result)) => result_page(&view, result),
            Err(error) => error_page(error),
        },
        Some(Action::Decline) => match services.decline_email(&token, ip, user_agent).await {
            Ok((view, result)) => decline_page(&view, result),
            Err(error) => error_page(error),
        },
        None => unknown_choice_page(),
    }
}

fn decline_page(view: &ConfirmationView, result: DeclineResult) -> Page {
    let firm = escape(&view.firm_name);
    let phone = spoken_number(view);
    let firm_number = escape(&view.sms_number);
    let (title, first) = match result {
        DeclineResult::Declined => (
            "You won't get texts",
            format!(
                "<p>Thank you for letting us know. <strong>{firm}</strong> will not text {phone}.</p>"
            ),
        ),
        DeclineResult::AlreadyOptedOut => (
            "Already declined",
            format!(
                "<p>{phone} is already opted out of texts from <strong>{firm}</strong>. Nothing more to do.</p>"
            ),
        ),
    };
    html_page(
        StatusCode::OK,
        title,
        &format!(
            "{first}<p class=\"muted\">If you change your mind, text <strong>START</strong> to \
             {firm_number}.</p>"
        ),
    )
}

fn result_page(view: &ConfirmationView, result: ConfirmResult) -> Page {
    let firm = escape(&view.firm_name);
    let phone = spoken_number(view);
    match result {
        ConfirmResult::Confirmed => html_page(
            StatusCode::OK,
            "You're confirmed",
            &format!(
                "<p>Thank you. <strong>{firm}</strong> may now text {phone}.</p>\
                 <p class=\"muted\">Reply STOP to any text to opt out, HELP for help.</p>"
            ),
        ),
        ConfirmResult::AlreadyConfirmed => html_page(
            StatusCode::OK,
            "Already confirmed",
            &format!(
                "<p>Texts from <strong>{firm}</strong> to {phone} were already confirmed.</p>"
            ),
        ),
        ConfirmResult::OptedOut => html_page(
            StatusCode::OK,
            "You're unsubscribed",
            &format!(
                "<p>{phone} is unsubscribed from texts from <strong>{firm}</strong>, so this link cannot turn them back on.</p>\
                 <p>To receive texts again, reply <strong>START</strong> to our last text message.</p>"
            ),
        ),
    }
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(MAX_USER_AGENT_LEN).collect())
}

/// The caller's address: set by the platform adapter (Lambda) as `ClientIp`, or the socket.
fn client_ip(request: &Request) -> Option<String> {
    if let Some(ClientIp(ip)) = request.extensions().get::<ClientIp>() {
        return Some(ip.clone());
    }
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
}
