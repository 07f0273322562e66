//! Lambda bootstrap: JSON tracing, clients built once at cold start, then the router, with
//! each request's IAM caller named for the changes it records.

use axum::extract::Request;
use consent_http::CallerIdentity;
use lambda_http::request::RequestContext;
use lambda_http::{Error, RequestExt, run};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    consent_aws::logging::init_lambda_logging();
    let services = consent_aws::services_from_env(firm_admin::KEYS_USED).await?;
    run(firm_admin::router(services).layer(axum::middleware::map_request(name_caller))).await
}

/// Names the request's caller: the IAM principal the HTTP API's IAM authorizer checked.
async fn name_caller(mut request: Request) -> Request {
    if let Some(arn) = caller_arn(request.request_context_ref()) {
        request.extensions_mut().insert(CallerIdentity(arn));
    }
    request
}

/// The IAM user or role ARN in an HTTP API request's context, if the authorizer gave one.
fn caller_arn(context: Option<&RequestContext>) -> Option<String> {
    match context? {
        RequestContext::ApiGatewayV2(context) => {
            context.authorizer.as_ref()?.iam.as_ref()?.user_arn.clone()
        }
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::aws_lambda_events::apigw::{
        ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerIamDescription,
        ApiGatewayV2httpRequestContext,
    };

    #[test]
    fn the_caller_is_the_iam_principal_of_the_http_api_request() {
        let mut iam = ApiGatewayRequestAuthorizerIamDescription::default();
        iam.user_arn = Some("arn:aws:iam::123456789012:role/crm-sync".to_string());
        let mut authorizer = ApiGatewayRequestAuthorizer::default();
        authorizer.iam = Some(iam);
        let mut context = ApiGatewayV2httpRequestContext::default();
        context.authorizer = Some(authorizer);
        let context = RequestContext::ApiGatewayV2(context);
        assert_eq!(
            caller_arn(Some(&context)).as_deref(),
            Some("arn:aws:iam::123456789012:role/crm-sync")
        );
        let anonymous = RequestContext::ApiGatewayV2(ApiGatewayV2httpRequestContext::default());
        assert_eq!(caller_arn(Some(&anonymous)), None);
        assert_eq!(caller_arn(None), None);
    }
}
