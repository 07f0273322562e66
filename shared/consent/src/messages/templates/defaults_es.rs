//! The shipped default of every template in Spanish, CTIA-complete, in the usted form a law
//! firm uses with its clients.
//!
//! The SMS bodies are written in the GSM-7 alphabet, as the English ones are: it has é, ñ, ü,
//! ¿ and ¡ but not á, í, ó or ú, and one of those would switch the whole text to UCS-2 (70
//! characters a segment instead of 160), tripling what each text costs and leaving the opt-out
//! confirmation more than the one segment CTIA allows. So the texts leave those accents off
//! ("SI", "varia", "recibira"), as Spanish texts from US carriers and banks commonly do. The
//! email has no such limit and is written with every accent.

use super::defaults::Defaults;

/// The Spanish defaults.
pub(super) const SPANISH: Defaults = Defaults {
    sms_opt_in_request: SMS_OPT_IN_REQUEST,
    sms_opt_in_confirmation: SMS_OPT_IN_CONFIRMATION,
    sms_opt_out_confirmation: SMS_OPT_OUT_CONFIRMATION,
    sms_help: SMS_HELP,
    email_subject: EMAIL_SUBJECT,
    email_text: EMAIL_TEXT,
    email_html: EMAIL_HTML,
};

const SMS_OPT_IN_REQUEST: &str = "{{ firm_name }}: {% if first_name %}Hola {{ first_name }}, responda{% else %}Responda{% endif %} SI para confirmar que desea recibir textos sobre su asunto legal. La frecuencia de mensajes varia. Pueden aplicarse tarifas de mensajes y datos. Responda AYUDA para ayuda, STOP para cancelar.";

const SMS_OPT_IN_CONFIRMATION: &str = "{{ firm_name }}: Confirmado. Recibira textos sobre su asunto legal. La frecuencia de mensajes varia. Pueden aplicarse tarifas de mensajes y datos. Responda AYUDA para ayuda, STOP para cancelar.";

const SMS_OPT_OUT_CONFIRMATION: &str = "{{ firm_name }}: Se ha dado de baja y no recibira mas mensajes. Responda START para volver a suscribirse.";

const SMS_HELP: &str = "{{ firm_name }}: Textos sobre su asunto legal. Para ayuda{% if support_phone %} llame al {{ support_phone }}{% if support_email %} o escriba a {{ support_email }}{% endif %}{% elif support_email %} escriba a {{ support_email }}{% elif website %} visite {{ website }}{% endif %}. La frecuencia de mensajes varia. Pueden aplicarse tarifas de mensajes y datos. Responda STOP para cancelar, AYUDA para ayuda.";

const EMAIL_SUBJECT: &str = "Confirme los mensajes de texto de {{ firm_name }}";

const EMAIL_TEXT: &str = "\
{% if first_name %}Hola, {{ first_name }}:{% else %}Hola:{% endif %}

{{ firm_name }} desea enviarle mensajes de texto sobre su asunto legal. Para aceptar, abra este enlace y pulse el botón de confirmar en la página que se abre:

{{ confirm_url }}

También puede simplemente responder SI al mensaje de texto que le enviamos.

La frecuencia de mensajes varía. Pueden aplicarse tarifas de mensajes y datos. Responda AYUDA a cualquiera de nuestros mensajes para obtener ayuda, o STOP en cualquier momento para cancelar. Si no esperaba este correo, puede ignorarlo: nada cambia hasta que usted confirme.

{{ firm_name }}{% if support_phone %}
{{ support_phone }}{% endif %}{% if support_email %}
{{ support_email }}{% endif %}{% if website %}
{{ website }}{% endif %}
";

// The English email's layout (tables, inline styles), in Spanish.
const EMAIL_HTML: &str = r##"<!DOCTYPE html>
<html lang="es">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Confirme los mensajes de texto de {{ firm_name }}</title>
</head>
<body style="margin:0;padding:0;background-color:#f4f4f5;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f4f4f5;">
<tr>
<td align="center" style="padding:24px 12px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:560px;background-color:#ffffff;border-radius:6px;">
<tr>
<td style="padding:32px 28px;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:24px;color:#1f2937;">
<p style="margin:0 0 16px 0;">{% if first_name %}Hola, {{ first_name }}:{% else %}Hola:{% endif %}</p>
<p style="margin:0 0 16px 0;">{{ firm_name }} desea enviarle mensajes de texto sobre su asunto legal. Para aceptar, pulse el botón de abajo y luego el botón de confirmar en la página que se abre.</p>
<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:8px 0 24px 0;">
<tr>
<td align="center" bgcolor="#1d4ed8" style="border-radius:6px;background-color:#1d4ed8;">
<a href="{{ confirm_url }}" target="_blank" style="display:inline-block;padding:12px 28px;font-family:Arial,Helvetica,sans-serif;font-size:16px;font-weight:bold;line-height:24px;color:#ffffff;text-decoration:none;border-radius:6px;">Confirmar los mensajes de texto</a>
</td>
</tr>
</table>
<p style="margin:0 0 16px 0;">Si el botón no funciona, copie este enlace en su navegador:<br><a href="{{ confirm_url }}" target="_blank" style="color:#1d4ed8;word-break:break-all;">{{ confirm_url }}</a></p>
<p style="margin:0 0 16px 0;">También puede simplemente responder SI al mensaje de texto que le enviamos.</p>
<p style="margin:0 0 16px 0;font-size:14px;line-height:20px;color:#4b5563;">La frecuencia de mensajes varía. Pueden aplicarse tarifas de mensajes y datos. Responda AYUDA a cualquiera de nuestros mensajes para obtener ayuda, o STOP en cualquier momento para cancelar. Si no esperaba este correo, puede ignorarlo: nada cambia hasta que usted confirme.</p>
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

#[cfg(test)]
mod tests {
    use super::super::*;

    fn sms(body: &str) -> TemplateOverride {
        TemplateOverride::Sms {
            body: body.to_string(),
        }
    }

    fn problems(result: Result<(), TemplateError>) -> Vec<String> {
        match result {
            Err(TemplateError::Invalid { problems }) => problems,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    fn spanish(name: TemplateName, vars: &TemplateVars) -> RenderedSms {
        render_sms(name, Language::Es, None, vars).expect("renders")
    }

    #[test]
    fn the_opt_in_request_says_everything_in_spanish_within_two_segments() {
        let vars = sample_vars();
        let sms = spanish(TemplateName::SmsOptInRequest, &vars);
        assert!(
            sms.body
                .starts_with("Hartwell & Pine LLP: Hola Maria, responda SI para confirmar"),
            "{}",
            sms.body
        );
        for needle in [
            "La frecuencia de mensajes varia.",
            "Pueden aplicarse tarifas de mensajes y datos.",
            "Responda AYUDA para ayuda, STOP para cancelar.",
        ] {
            assert!(
                sms.body.contains(needle),
                "{needle} missing from {}",
                sms.body
            );
        }
        assert!(sms.segments.segments <= 2, "{sms:?}");
        let long_name = TemplateVars {
            firm_name: "Smith, Johnson & Associates Personal Injury Lawyers PLLC".to_string(),
            first_name: "Alexandra".to_string(),
            ..sample_vars()
        };
        let sms = spanish(TemplateName::SmsOptInRequest, &long_name);
        assert!(sms.segments.segments <= 2, "{sms:?}");
        let no_name = TemplateVars {
            first_name: String::new(),
            ..sample_vars()
        };
        let sms = spanish(TemplateName::SmsOptInRequest, &no_name);
        assert!(
            sms.body.starts_with("Hartwell & Pine LLP: Responda SI"),
            "{}",
            sms.body
        );
    }

    #[test]
    fn the_opt_out_confirmation_fits_one_segment_even_with_a_long_firm_name() {
        let vars = TemplateVars {
            firm_name: "Smith, Johnson & Associates Personal Injury Lawyers PLLC".to_string(),
            ..sample_vars()
        };
        let sms = spanish(TemplateName::SmsOptOutConfirmation, &vars);
        assert_eq!(sms.segments.segments, 1, "{sms:?}");
        assert!(
            sms.body.contains("no recibira mas mensajes"),
            "{}",
            sms.body
        );
    }

    #[test]
    fn the_help_reply_names_whichever_contact_the_firm_has() {
        let body = spanish(TemplateName::SmsHelp, &sample_vars()).body;
        assert!(
            body.contains(
                "Para ayuda llame al (555) 010-0199 o escriba a help@hartwellpine.example."
            ),
            "{body}"
        );
        let email_only = TemplateVars {
            support_phone: String::new(),
            ..sample_vars()
        };
        let body = spanish(TemplateName::SmsHelp, &email_only).body;
        assert!(
            body.contains("Para ayuda escriba a help@hartwellpine.example."),
            "{body}"
        );
        let website_only = TemplateVars {
            support_phone: String::new(),
            support_email: String::new(),
            ..sample_vars()
        };
        let body = spanish(TemplateName::SmsHelp, &website_only).body;
        assert!(
            body.contains("Para ayuda visite https://hartwellpine.example."),
            "{body}"
        );
    }

    #[test]
    fn the_email_is_in_spanish_with_its_accents() {
        let email = render_email(Language::Es, None, &sample_vars()).expect("renders");
        assert_eq!(
            email.subject,
            "Confirme los mensajes de texto de Hartwell & Pine LLP"
        );
        assert!(email.text.starts_with("Hola, Maria:"), "{}", email.text);
        assert!(email.text.contains("La frecuencia de mensajes varía."));
        assert!(email.html.contains("Confirmar los mensajes de texto"));
        assert!(email.html.contains("Hartwell &amp; Pine LLP"));
    }

    #[test]
    fn a_spanish_override_is_checked_in_spanish_words() {
        let body = "{{ firm_name }}: Responda SÍ para recibir textos. Pueden aplicarse tarifas. \
                    ALTO para cancelar, AYUDA para ayuda.";
        assert_eq!(
            validate_override(TemplateName::SmsOptInRequest, Language::Es, &sms(body)),
            Ok(())
        );
        // The same text read as English lacks English's words.
        let found = problems(validate_override(
            TemplateName::SmsOptInRequest,
            Language::En,
            &sms(body),
        ));
        assert_eq!(
            found,
            vec![
                "must say how to reply YES",
                "must say how to reply STOP",
                "must say how to reply HELP",
                "must say that message and data rates may apply",
            ]
        );
        // A Spanish text missing its elements is told so with the Spanish words to use.
        let found = problems(validate_override(
            TemplateName::SmsOptInConfirmation,
            Language::Es,
            &sms("{{ firm_name }}: Gracias."),
        ));
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(
            found[0].contains("La frecuencia de mensajes varia"),
            "{found:?}"
        );
        assert!(found[1].contains("Pueden aplicarse tarifas"), "{found:?}");
        assert!(found[2].contains("AYUDA"), "{found:?}");
        assert!(found[3].contains("STOP"), "{found:?}");
        // "Baja" in a sentence does not say how to stop.
        let found = problems(validate_override(
            TemplateName::SmsHelp,
            Language::Es,
            &sms("{{ firm_name }}: escriba a {{ support_email }} para darse de baja."),
        ));
        assert_eq!(found, vec!["must say how to reply STOP (or ALTO)"]);
        let found = problems(validate_override(
            TemplateName::SmsOptOutConfirmation,
            Language::Es,
            &sms("{{ firm_name }}: Adios."),
        ));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            validate_override(
                TemplateName::SmsOptOutConfirmation,
                Language::Es,
                &sms("{{ firm_name }}: Ya no recibirá más mensajes."),
            ),
            Ok(())
        );
    }
}
