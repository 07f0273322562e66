//! The templates' tests: rendering, validation per message and language, the sandbox.

use super::wording::*;
use super::*;

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

#[test]
fn every_default_in_every_language_validates() {
    for language in Language::ALL {
        for name in TemplateName::ALL {
            assert_eq!(
                validate_override(name, language, &default_template(name, language)),
                Ok(()),
                "{} in {language}",
                name.as_str()
            );
        }
    }
}

#[test]
fn every_default_in_every_language_renders() {
    let vars = sample_vars();
    for language in Language::ALL {
        for name in TemplateName::ALL {
            if name.is_email() {
                let email = render_email(language, None, &vars).expect("email renders");
                assert!(email.subject.contains(&vars.firm_name));
                assert!(email.html.contains(&format!("<html lang=\"{language}\">")));
            } else {
                let sms = render_sms(name, language, None, &vars).expect("sms renders");
                assert!(sms.body.starts_with(&vars.firm_name), "{}", sms.body);
                assert_eq!(sms.body, sms.body.trim_end());
                assert!(!sms.body.contains("{{"), "{}", sms.body);
                // Every default text stays in GSM-7, so it costs what its length says.
                assert_eq!(
                    sms.segments.encoding,
                    crate::messages::segments::SmsEncoding::Gsm7,
                    "{}",
                    sms.body
                );
            }
        }
    }
}

#[test]
fn default_opt_in_request_is_ctia_complete_and_short() {
    let vars = sample_vars();
    let sms =
        render_sms(TemplateName::SmsOptInRequest, Language::En, None, &vars).expect("renders");
    let body = &sms.body;
    assert!(body.contains("Hartwell & Pine LLP"), "{body}");
    assert!(body.contains("Hi Maria"), "{body}");
    for needle in [
        "YES",
        "STOP",
        "HELP",
        "Msg & data rates may apply",
        "frequency varies",
        "legal matter",
    ] {
        assert!(body.contains(needle), "{needle} missing from {body}");
    }
    assert!(sms.segments.segments <= 2, "{sms:?}");

    let long_name = TemplateVars {
        firm_name: "Smith, Johnson & Associates Personal Injury Lawyers PLLC".to_string(),
        first_name: "Alexandra".to_string(),
        ..vars
    };
    let sms = render_sms(
        TemplateName::SmsOptInRequest,
        Language::En,
        None,
        &long_name,
    )
    .expect("renders");
    assert!(sms.segments.segments <= 2, "{sms:?}");
}

#[test]
fn default_opt_in_request_without_first_name() {
    let vars = TemplateVars {
        first_name: String::new(),
        ..sample_vars()
    };
    let sms =
        render_sms(TemplateName::SmsOptInRequest, Language::En, None, &vars).expect("renders");
    assert!(
        sms.body
            .starts_with("Hartwell & Pine LLP: Reply YES to confirm"),
        "{}",
        sms.body
    );
}

#[test]
fn default_help_names_contacts() {
    let vars = sample_vars();
    let body = render_sms(TemplateName::SmsHelp, Language::En, None, &vars)
        .expect("renders")
        .body;
    assert!(body.contains("call (555) 010-0199 or email help@hartwellpine.example."));
    let email_only = TemplateVars {
        support_phone: String::new(),
        ..sample_vars()
    };
    let body = render_sms(TemplateName::SmsHelp, Language::En, None, &email_only)
        .expect("renders")
        .body;
    assert!(
        body.contains("For help email help@hartwellpine.example."),
        "{body}"
    );
}

#[test]
fn override_missing_everything_lists_every_problem() {
    let found = problems(validate_override(
        TemplateName::SmsOptInRequest,
        Language::En,
        &sms("Hello there"),
    ));
    assert_eq!(
        found,
        vec![
            "must name the firm ({{ firm_name }})",
            "must say how to reply YES",
            "must say how to reply STOP",
            "must say how to reply HELP",
            "must say that message and data rates may apply",
        ]
    );
}

#[test]
fn complete_override_validates() {
    let body = "{{ firm_name|upper }}: text Yes to get case updates. Msg&data rates may apply. \
                Stop to end, Help for help.";
    assert_eq!(
        validate_override(TemplateName::SmsOptInRequest, Language::En, &sms(body)),
        Ok(())
    );
}

#[test]
fn other_sms_templates_check_their_elements() {
    let found = problems(validate_override(
        TemplateName::SmsOptOutConfirmation,
        Language::En,
        &sms("Bye"),
    ));
    assert_eq!(found, vec![MUST_NAME_FIRM, MUST_UNSUBSCRIBED]);
    assert_eq!(
        validate_override(
            TemplateName::SmsOptOutConfirmation,
            Language::En,
            &sms("{{ firm_name }}: you have opted out. Text START to rejoin."),
        ),
        Ok(())
    );
    let found = problems(validate_override(
        TemplateName::SmsOptOutConfirmation,
        Language::En,
        &sms("{{ firm_name }}: you have opted out. Rejoin at https://firm.example/sms"),
    ));
    assert_eq!(found, vec![MUST_NO_LINK]);
    let long = format!(
        "{{{{ firm_name }}}}: you have opted out and will receive no more messages. {}",
        "We are sorry to see you go. ".repeat(5)
    );
    let found = problems(validate_override(
        TemplateName::SmsOptOutConfirmation,
        Language::En,
        &sms(&long),
    ));
    assert_eq!(found, vec![MUST_ONE_SEGMENT]);

    let found = problems(validate_override(
        TemplateName::SmsHelp,
        Language::En,
        &sms("Help!"),
    ));
    assert_eq!(found, vec![MUST_NAME_FIRM, MUST_SUPPORT, MUST_STOP]);
    assert_eq!(
        validate_override(
            TemplateName::SmsHelp,
            Language::En,
            &sms("{{ firm_name }}: email {{ support_email }}. STOP to end."),
        ),
        Ok(())
    );

    let found = problems(validate_override(
        TemplateName::SmsOptInConfirmation,
        Language::En,
        &sms("Thanks"),
    ));
    assert_eq!(
        found,
        vec![
            MUST_NAME_FIRM,
            MUST_FREQUENCY,
            MUST_RATES,
            MUST_HELP,
            MUST_STOP
        ]
    );
    assert_eq!(
        validate_override(
            TemplateName::SmsOptInConfirmation,
            Language::En,
            &sms(
                "{{ firm_name }}: confirmed. 4 msgs/mo. Msg & data rates may apply. HELP for help, STOP to end."
            ),
        ),
        Ok(())
    );
}

#[test]
fn elements_hidden_behind_first_name_are_reported() {
    let body = "{{ firm_name }}: reply YES. Msg & data rates may apply. HELP for help.\
                {% if first_name %} STOP to opt out.{% endif %}";
    let found = problems(validate_override(
        TemplateName::SmsOptInRequest,
        Language::En,
        &sms(body),
    ));
    assert_eq!(
        found,
        vec!["must say how to reply STOP when the first name is unknown"]
    );
}

#[test]
fn typo_in_variable_is_reported() {
    let body = "{{ frim_name }}: reply YES. Msg & data rates may apply. HELP, STOP.";
    let found = problems(validate_override(
        TemplateName::SmsOptInRequest,
        Language::En,
        &sms(body),
    ));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("unknown variable `frim_name`"),
        "{found:?}"
    );
}

#[test]
fn syntax_error_is_reported() {
    let found = problems(validate_override(
        TemplateName::SmsOptInRequest,
        Language::En,
        &sms("{{ firm_name "),
    ));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("syntax error"), "{found:?}");
}

#[test]
fn endless_loops_are_stopped() {
    // minijinja refuses a range this large outright.
    let found = problems(validate_override(
        TemplateName::SmsOptInRequest,
        Language::En,
        &sms("{% for i in range(100000000) %}x{% endfor %}"),
    ));
    assert!(
        found[0].contains("range has too many elements"),
        "{found:?}"
    );
    // Ten billion empty iterations: only fuel stops this one.
    let found = problems(validate_override(
        TemplateName::SmsOptInRequest,
        Language::En,
        &sms("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"),
    ));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("too much work"), "{found:?}");
    // Recursion is outside the allowed syntax.
    let found = problems(validate_override(
        TemplateName::SmsOptInRequest,
        Language::En,
        &sms("{% for x in [1] recursive %}{{ loop([x]) }}{% endfor %}"),
    ));
    assert!(found[0].contains("may not use `recursive`"), "{found:?}");
}

#[test]
fn output_is_capped() {
    let found = problems(validate_override(
        TemplateName::SmsOptInRequest,
        Language::En,
        &sms("{% for i in range(10000) %}{{ firm_name }}{% endfor %}"),
    ));
    assert_eq!(
        found,
        vec![format!(
            "the SMS body renders to more than {} characters",
            crate::limits::MAX_SMS_CHARS
        )]
    );
    let found = problems(validate_override(
        TemplateName::SmsOptInRequest,
        Language::En,
        &sms(&"x".repeat(10_001)),
    ));
    assert_eq!(found, vec!["the SMS body is longer than 10000 characters"]);
}

#[test]
fn no_file_access() {
    for body in [
        "{% include \"x\" %}",
        "{% include \"/etc/passwd\" %}",
        "{% extends \"base.html\" %}",
        "{% import \"x\" as y %}",
    ] {
        let err = render_sms(
            TemplateName::SmsHelp,
            Language::En,
            Some(&sms(body)),
            &sample_vars(),
        );
        assert!(
            matches!(err, Err(TemplateError::Invalid { .. })),
            "{body}: {err:?}"
        );
    }
}

fn email(subject: &str, text: &str, html: &str) -> TemplateOverride {
    TemplateOverride::Email {
        subject: subject.to_string(),
        text: text.to_string(),
        html: html.to_string(),
    }
}

#[test]
fn email_html_escapes_variables_and_text_does_not() {
    let vars = TemplateVars {
        first_name: "<script>alert(1)</script>".to_string(),
        ..sample_vars()
    };
    let rendered = render_email(Language::En, None, &vars).expect("renders");
    assert!(!rendered.html.contains("<script>"), "{}", rendered.html);
    assert!(rendered.html.contains("&lt;script&gt;alert(1)&lt;"));
    assert!(rendered.text.contains("Hi <script>alert(1)</script>,"));
    assert!(rendered.html.contains("Hartwell &amp; Pine LLP"));
    assert!(rendered.text.contains("Hartwell & Pine LLP"));
    assert!(rendered.subject.contains("Hartwell & Pine LLP"));
}

#[test]
fn email_html_cannot_turn_escaping_off() {
    let vars = TemplateVars {
        first_name: "<b>x</b>".to_string(),
        ..sample_vars()
    };
    for html in [
        "{{ first_name|safe }} {{ confirm_url }}",
        "{% autoescape false %}{{ first_name }}{% endautoescape %}{{ confirm_url }}",
        "{%- AutoEscape false %}{{ first_name }}{% endautoescape %}{{ confirm_url }}",
        "{% filter safe %}{{ first_name }}{% endfilter %}{{ confirm_url }}",
    ] {
        let template = email("{{ firm_name }}", "{{ confirm_url }}", html);
        let rendered = render_email(Language::En, Some(&template), &vars);
        assert!(
            matches!(rendered, Err(TemplateError::Invalid { .. })),
            "{html}: {rendered:?}"
        );
    }
}

#[test]
fn email_subject_is_one_line() {
    let vars = TemplateVars {
        first_name: "Ann\r\nBcc: victim@example.com".to_string(),
        ..sample_vars()
    };
    let template = email(
        "Hi {{ first_name }}",
        "{{ confirm_url }}",
        "{{ confirm_url }}",
    );
    let rendered = render_email(Language::En, Some(&template), &vars).expect("renders");
    assert_eq!(rendered.subject, "Hi Ann Bcc: victim@example.com");
}

#[test]
fn email_override_lists_problems_of_every_part() {
    let found = problems(validate_override(
        TemplateName::EmailOptInRequest,
        Language::En,
        &email("Hello", "Hi {{ first_name }}", "<p>Hi</p>"),
    ));
    assert_eq!(found, vec![MUST_TEXT_LINK, MUST_HTML_LINK, MUST_EMAIL_FIRM]);

    let found = problems(validate_override(
        TemplateName::EmailOptInRequest,
        Language::En,
        &email("{{ oops", "{{ nope }}", "{{ confirm_url }}"),
    ));
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].contains("syntax error"), "{found:?}");
    assert!(found[1].contains("unknown variable `nope`"), "{found:?}");

    assert_eq!(
        validate_override(
            TemplateName::EmailOptInRequest,
            Language::En,
            &email(
                "Texts from {{ firm_name }}",
                "Confirm: {{ confirm_url }}",
                "<a href=\"{{ confirm_url }}\">Confirm</a>",
            ),
        ),
        Ok(())
    );
}

#[test]
fn wrong_shape_is_rejected() {
    let email_shape = default_template(TemplateName::EmailOptInRequest, Language::En);
    assert_eq!(
        validate_override(TemplateName::SmsHelp, Language::En, &email_shape),
        Err(TemplateError::WrongShape {
            name: "sms_help",
            expected: "an SMS body"
        })
    );
    assert!(matches!(
        validate_override(TemplateName::EmailOptInRequest, Language::En, &sms("hi")),
        Err(TemplateError::WrongShape {
            name: "email_opt_in_request",
            ..
        })
    ));
    let vars = sample_vars();
    assert!(matches!(
        render_sms(
            TemplateName::SmsHelp,
            Language::En,
            Some(&email_shape),
            &vars
        ),
        Err(TemplateError::WrongShape { .. })
    ));
    assert!(matches!(
        render_sms(TemplateName::EmailOptInRequest, Language::En, None, &vars),
        Err(TemplateError::WrongShape { .. })
    ));
    assert!(matches!(
        render_email(Language::En, Some(&sms("hi")), &vars),
        Err(TemplateError::WrongShape { .. })
    ));
}

#[test]
fn override_serde_round_trip() {
    for template in [sms("{{ firm_name }}: hi"), email("s", "t", "<p>h</p>")] {
        let json = serde_json::to_string(&template).expect("serializes");
        let back: TemplateOverride = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, template);
    }
    let back: TemplateOverride = serde_json::from_str(r#"{"body":"x"}"#).expect("deserializes");
    assert_eq!(back, sms("x"));
    let back: TemplateOverride =
        serde_json::from_str(r#"{"subject":"s","text":"t","html":"h"}"#).expect("deserializes");
    assert_eq!(back, email("s", "t", "h"));
}

#[test]
fn preview_renders_with_sample_vars() {
    let Ok(Preview::Sms(sms_preview)) = preview(TemplateName::SmsOptInRequest, Language::En, None)
    else {
        panic!("expected an SMS preview");
    };
    assert!(sms_preview.body.contains("Hartwell & Pine LLP"));
    let json =
        serde_json::to_value(preview(TemplateName::EmailOptInRequest, Language::En, None).ok())
            .expect("serializes");
    assert_eq!(json["kind"], "email");
    assert!(
        json["html"]
            .as_str()
            .is_some_and(|h| h.contains("Confirm text messages"))
    );
    let json = serde_json::to_value(Preview::Sms(sms_preview)).expect("serializes");
    assert_eq!(json["kind"], "sms");
    assert!(json["segments"]["segments"].is_number());
    assert!(matches!(
        preview(TemplateName::SmsHelp, Language::En, Some(&sms("{{ x }}"))),
        Err(TemplateError::Invalid { .. })
    ));
}

#[test]
fn sms_is_not_html_escaped_and_trailing_space_is_trimmed() {
    let vars = TemplateVars {
        first_name: "<O'Brien & Co>".to_string(),
        ..sample_vars()
    };
    let rendered = render_sms(
        TemplateName::SmsHelp,
        Language::En,
        Some(&sms("{{ first_name }} \n\n")),
        &vars,
    )
    .expect("renders");
    assert_eq!(rendered.body, "<O'Brien & Co>");
}
