//! The shipped default of every template in English, CTIA-complete, and the shape every
//! language's defaults take; the Spanish ones are in [`super::defaults_es`].
//!
//! Written in the GSM-7 alphabet (ASCII apostrophes, no dashes or emoji) so a body stays at 160 /
//! 153 characters per segment; the opt-in request fits two segments with a typical firm name.

/// The shipped defaults of one language.
pub(super) struct Defaults {
    /// `sms_opt_in_request`.
    pub sms_opt_in_request: &'static str,
    /// `sms_opt_in_confirmation`.
    pub sms_opt_in_confirmation: &'static str,
    /// `sms_opt_out_confirmation`.
    pub sms_opt_out_confirmation: &'static str,
    /// `sms_help`.
    pub sms_help: &'static str,
    /// `email_opt_in_request`: subject.
    pub email_subject: &'static str,
    /// `email_opt_in_request`: plain text.
    pub email_text: &'static str,
    /// `email_opt_in_request`: HTML.
    pub email_html: &'static str,
}

/// The English defaults.
pub(super) const ENGLISH: Defaults = Defaults {
    sms_opt_in_request: SMS_OPT_IN_REQUEST,
    sms_opt_in_confirmation: SMS_OPT_IN_CONFIRMATION,
    sms_opt_out_confirmation: SMS_OPT_OUT_CONFIRMATION,
    sms_help: SMS_HELP,
    email_subject: EMAIL_SUBJECT,
    email_text: EMAIL_TEXT,
    email_html: EMAIL_HTML,
};

const SMS_OPT_IN_REQUEST: &str = "{{ firm_name }}: {% if first_name %}Hi {{ first_name }}, reply{% else %}Reply{% endif %} YES to confirm you want texts about your legal matter. Msg frequency varies. Msg & data rates may apply. Reply HELP for help, STOP to opt out.";

const SMS_OPT_IN_CONFIRMATION: &str = "{{ firm_name }}: You're confirmed for texts about your legal matter. Msg frequency varies. Msg & data rates may apply. Reply HELP for help, STOP to opt out.";

const SMS_OPT_OUT_CONFIRMATION: &str = "{{ firm_name }}: You're unsubscribed and will receive no more messages. Reply START to resubscribe.";

const SMS_HELP: &str = "{{ firm_name }}: Texts about your legal matter. For help{% if support_phone %} call {{ support_phone }}{% if support_email %} or{% endif %}{% endif %}{% if support_email %} email {{ support_email }}{% endif %}{% if not support_phone and not support_email and website %} visit {{ website }}{% endif %}. Msg frequency varies. Msg & data rates may apply. Reply STOP to opt out, HELP for help.";

const EMAIL_SUBJECT: &str = "Please confirm text messages from {{ firm_name }}";

const EMAIL_TEXT: &str = "\
{% if first_name %}Hi {{ first_name }},{% else %}Hello,{% endif %}

{{ firm_name }} would like to send you text messages about your legal matter. To agree, open this link and press Confirm on the page that opens:

{{ confirm_url }}

You can also simply reply YES to the text message we sent you.

Message frequency varies. Msg & data rates may apply. Reply HELP to any of our texts for help, or STOP at any time to opt out. If you did not expect this email, you can ignore it: nothing changes until you confirm.

{{ firm_name }}{% if support_phone %}
{{ support_phone }}{% endif %}{% if support_email %}
{{ support_email }}{% endif %}{% if website %}
{{ website }}{% endif %}
";

// Table layout and inline styles only: many email clients drop <style> blocks and ignore flexbox.
const EMAIL_HTML: &str = r##"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Confirm text messages from {{ firm_name }}</title>
</head>
<body style="margin:0;padding:0;background-color:#f4f4f5;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f4f4f5;">
<tr>
<td align="center" style="padding:24px 12px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:560px;background-color:#ffffff;border-radius:6px;">
<tr>
<td style="padding:32px 28px;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:24px;color:#1f2937;">
<p style="margin:0 0 16px 0;">{% if first_name %}Hi {{ first_name }},{% else %}Hello,{% endif %}</p>
<p style="margin:0 0 16px 0;">{{ firm_name }} would like to send you text messages about your legal matter. To agree, press the button below, then press Confirm on the page that opens.</p>
<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:8px 0 24px 0;">
<tr>
<td align="center" bgcolor="#1d4ed8" style="border-radius:6px;background-color:#1d4ed8;">
<a href="{{ confirm_url }}" target="_blank" style="display:inline-block;padding:12px 28px;font-family:Arial,Helvetica,sans-serif;font-size:16px;font-weight:bold;line-height:24px;color:#ffffff;text-decoration:none;border-radius:6px;">Confirm text messages</a>
</td>
</tr>
</table>
<p style="margin:0 0 16px 0;">If the button does not work, copy this link into your browser:<br><a href="{{ confirm_url }}" target="_blank" style="color:#1d4ed8;word-break:break-all;">{{ confirm_url }}</a></p>
<p style="margin:0 0 16px 0;">You can also simply reply YES to the text message we sent you.</p>
<p style="margin:0 0 16px 0;font-size:14px;line-height:20px;color:#4b5563;">Message frequency varies. Msg &amp; data rates may apply. Reply HELP to any of our texts for help, or STOP at any time to opt out. If you did not expect this email, you can ignore it: nothing changes until you confirm.</p>
<p style="margin:0;font-size:14px;line-height:20px;color:#4b5563;">{{ firm_name }}{% if support_phone %}<br>{{ support_phone }}{% endif %}{% if support_email %}<br>{{ support_email }}{% endif %}{% if website %}<br>{{ website }}{% endif %}</p>
</td>
</tr>
</table>
</td>
</tr>
</table>
</body>
</html>
"##;
