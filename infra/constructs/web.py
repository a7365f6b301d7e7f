"""The web client on AWS: one CloudFront distribution in front of the static files (S3) and the pages (API).

``/static/*`` comes from a private S3 bucket through Origin Access Control, cached at the edge; the files
are those of ``layers/talkshop/web/static`` (what the local runtime serves under /static/), copied by a
BucketDeployment on every deploy, which also invalidates CloudFront's copies. Every other path goes to
the REST API's stage uncached: the pages (``/``, ``/chat``, ``/checkout/{id}``...) and the JSON API the
pages' scripts call, so both share one origin, the shopper cookie and a Content-Security-Policy of
``'self'``. The viewer's Host header is not forwarded (API Gateway answers only its own name); a
CloudFront Function passes it as X-Forwarded-Host instead (``web_viewer_request.js``).

Every response carries the pages' security headers (``talkshop.web.render.SECURITY_HEADERS``), added at
the edge where the origin did not set them (S3 objects, JSON answers), plus HSTS. Viewers are redirected
to HTTPS; CloudFront reaches the API over TLS 1.2. With a custom domain (``WebDomain``), viewers need
TLS 1.2 too; the default ``*.cloudfront.net`` certificate cannot enforce it. Access logs of the
distribution and of the bucket go to a log bucket kept 90 days.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra.constructs.api import Api
from infra.constructs.functions import get_att_name
from talkshop.local.static import STATIC_CACHE_CONTROL, STATIC_PREFIX, static_root
from talkshop.web.render import SECURITY_HEADERS

VIEWER_REQUEST_FUNCTION = Path(__file__).with_name("web_viewer_request.js")
#: Key prefix of the static files in the bucket: the URL path, so /static/app.css is static/app.css.
STATIC_KEY_PREFIX = STATIC_PREFIX.lstrip("/")
STATIC_PATH_PATTERN = f"{STATIC_PREFIX}*"
LOG_RETENTION = Duration.days(90)
HSTS_MAX_AGE = Duration.days(365)
#: Set by each origin per response, never at the edge: pages are ``no-store``, files are cached.
ORIGIN_HEADERS = frozenset({"cache-control"})
#: The headers a response headers policy sets as security headers (the others are custom headers).
_SECURITY_HEADER_NAMES = frozenset(
    {"content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy"}
)


@dataclass(frozen=True)
class WebDomain:
    """A custom domain for the distribution and its ACM certificate (which must live in us-east-1)."""

    name: str
    certificate_arn: str


def web_domain(name: str | None, certificate_arn: str | None) -> WebDomain | None:
    """The ``webDomainName`` and ``webCertificateArn`` context values: both or neither."""
    if not name and not certificate_arn:
        return None
    if not name or not certificate_arn:
        raise ValueError("webDomainName and webCertificateArn go together: set both or neither")
    return WebDomain(name=name, certificate_arn=certificate_arn)


def _member_name(value: str) -> str:
    """A header value as the name of CDK's enum member: ``same-origin`` -> ``SAME_ORIGIN``."""
    return value.upper().replace("-", "_")


def security_headers_policy(
    headers: Mapping[str, str],
) -> tuple[cloudfront.ResponseSecurityHeadersBehavior, cloudfront.ResponseCustomHeadersBehavior | None]:
    """The pages' security headers as a response headers policy's settings.

    CloudFront knows the common security headers by name and takes the others as custom headers. Each is
    added only where the origin did not send it (``override=False``): the pages' own values stay
    authoritative. HSTS is the edge's own: only it knows the viewer came over HTTPS.
    """
    known: dict[str, str] = {}
    custom: list[cloudfront.ResponseCustomHeader] = []
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in ORIGIN_HEADERS:
            continue
        if lowered in _SECURITY_HEADER_NAMES:
            known[lowered] = value
        else:
            custom.append(cloudfront.ResponseCustomHeader(header=name, value=value, override=False))
    content_type_options = known.get("x-content-type-options")
    if content_type_options not in (None, "nosniff"):
        raise ValueError(f"X-Content-Type-Options can only be nosniff, not {content_type_options!r}")
    security = cloudfront.ResponseSecurityHeadersBehavior(
        content_security_policy=(
            cloudfront.ResponseHeadersContentSecurityPolicy(
                content_security_policy=known["content-security-policy"], override=False
            )
            if "content-security-policy" in known
            else None
        ),
        content_type_options=(
            cloudfront.ResponseHeadersContentTypeOptions(override=False) if content_type_options else None
        ),
        frame_options=(
            cloudfront.ResponseHeadersFrameOptions(
                frame_option=cloudfront.HeadersFrameOption[_member_name(known["x-frame-options"])],
                override=False,
            )
            if "x-frame-options" in known
            else None
        ),
        referrer_policy=(
            cloudfront.ResponseHeadersReferrerPolicy(
                referrer_policy=cloudfront.HeadersReferrerPolicy[_member_name(known["referrer-policy"])],
                override=False,
            )
            if "referrer-policy" in known
            else None
        ),
        strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
            access_control_max_age=HSTS_MAX_AGE, include_subdomains=False, override=True
        ),
    )
    return security, cloudfront.ResponseCustomHeadersBehavior(custom_headers=custom) if custom else None


class WebClient(Construct):
    """``bucket`` (the static files), ``log_bucket``, ``distribution`` and its ``url`` (no trailing slash).

    ``web_acl_arn`` is an existing WAF web ACL of scope CLOUDFRONT (created in us-east-1) to attach; the
    API's own regional web ACL guards the pages either way.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: Api,
        domain: WebDomain | None = None,
        web_acl_arn: str | None = None,
        static_dir: Path | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        # S3 delivers the static bucket's access logs under a bucket policy rather than the deprecated
        # LogDeliveryWrite ACL (CDK's default without this flag).
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        self.log_bucket = s3.Bucket(
            self,
            "Logs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            # CloudFront's standard logs are written with an ACL grant, which needs ACLs enabled.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=LOG_RETENTION)],
            removal_policy=RemovalPolicy.RETAIN,  # logs outlive the stack, until they expire
        )
        self.bucket = s3.Bucket(
            self,
            "Static",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.log_bucket,
            server_access_logs_prefix="s3-static/",
            # The files come from the repository on every deploy: nothing to keep (the deployment
            # deletes them first, retain_on_delete=False).
            removal_policy=RemovalPolicy.DESTROY,
        )
        security, custom = security_headers_policy(SECURITY_HEADERS)
        self.headers_policy = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="The web client's security headers (talkshop.web.render.SECURITY_HEADERS) and HSTS",
            security_headers_behavior=security,
            custom_headers_behavior=custom,
        )
        self.viewer_request = cloudfront.Function(
            self,
            "ForwardHost",
            code=cloudfront.FunctionCode.from_file(file_path=str(VIEWER_REQUEST_FUNCTION)),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="Passes the viewer's Host as X-Forwarded-Host; asks for PDF on .pdf downloads",
        )
        pages = origins.HttpOrigin(
            api.domain_name,
            origin_path=f"/{api.stage_name}",
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            read_timeout=Duration.seconds(30),  # the slowest function (a model's turn) has 29 s
        )
        certificate = (
            acm.Certificate.from_certificate_arn(self, "Certificate", domain.certificate_arn)
            if domain
            else None
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Talkshop web client: static files from S3, pages and API from API Gateway",
            default_behavior=cloudfront.BehaviorOptions(
                origin=pages,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                response_headers_policy=self.headers_policy,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=self.viewer_request, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            ),
            additional_behaviors={
                STATIC_PATH_PATTERN: cloudfront.BehaviorOptions(
                    origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                    cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                    response_headers_policy=self.headers_policy,
                    compress=True,
                )
            },
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            domain_names=[domain.name] if domain else None,
            certificate=certificate,
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if domain else None,
            enable_logging=True,
            log_bucket=self.log_bucket,
            log_file_prefix="cloudfront/",
            web_acl_id=web_acl_arn,
        )
        self.url = f"https://{domain.name if domain else self.distribution.distribution_domain_name}"
        self.deployment = s3deploy.BucketDeployment(
            self,
            "StaticFiles",
            sources=[s3deploy.Source.asset(str(static_dir or static_root()))],
            destination_bucket=self.bucket,
            destination_key_prefix=STATIC_KEY_PREFIX,
            cache_control=[s3deploy.CacheControl.from_string(STATIC_CACHE_CONTROL)],
            distribution=self.distribution,
            distribution_paths=[STATIC_PATH_PATTERN],
            retain_on_delete=False,
        )
        self._acknowledge(domain=domain, web_acl_arn=web_acl_arn)

    def _acknowledge(self, *, domain: WebDomain | None, web_acl_arn: str | None) -> None:
        acknowledgements = [
            Acknowledgment(
                id="AwsSolutions-CFR1",
                reason=(
                    "The shop sells wherever its creators ship; the checkout validates shipping "
                    "addresses, so no country is blocked at the edge."
                ),
            )
        ]
        if domain is None:
            acknowledgements.append(
                Acknowledgment(
                    id="AwsSolutions-CFR4",
                    reason=(
                        "Without a custom domain the distribution uses CloudFront's default certificate, "
                        "whose viewer policy cannot be raised; set webDomainName and webCertificateArn "
                        "to require TLS 1.2 (TLSv1.2_2021)."
                    ),
                )
            )
        if web_acl_arn is None:
            acknowledgements.append(
                Acknowledgment(
                    id="AwsSolutions-CFR2",
                    reason=(
                        "A CLOUDFRONT-scope web ACL must be created in us-east-1 (pass its ARN as "
                        "webAclArn); the pages and the API behind the distribution are guarded by the API's "
                        "regional web ACL (infra/constructs/firewall.py)."
                    ),
                )
            )
        Validations.of(self.distribution).acknowledge(*acknowledgements)
        Validations.of(self.log_bucket).acknowledge(
            Acknowledgment(
                id="AwsSolutions-S1",
                reason=(
                    "This is the bucket the access logs are written to; logging its own accesses into "
                    "itself would log every log delivery."
                ),
            )
        )
        # The function CDK copies the files with: one per stack, its code and role are CDK's own.
        stack = Stack.of(self)
        bucket_arn = get_att_name(stack.resolve(self.bucket.bucket_arn))
        asset_bucket = f"cdk-{stack.synthesizer.bootstrap_qualifier}-assets-<AWS::AccountId>-<AWS::Region>"
        wildcards = (
            "Action::s3:GetObject*",
            "Action::s3:GetBucket*",
            "Action::s3:List*",
            "Action::s3:DeleteObject*",
            "Action::s3:Abort*",
            f"Resource::arn:<AWS::Partition>:s3:::{asset_bucket}/*",
            f"Resource::<{bucket_arn}>/*",
            "Resource::*",
        )
        Validations.of(self.deployment.handler_role.node.scope).acknowledge(  # type: ignore[arg-type]
            Acknowledgment(
                id=(
                    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                    "AWSLambdaBasicExecutionRole]"
                ),
                reason=(
                    "CDK's BucketDeployment function logs through AWSLambdaBasicExecutionRole; it runs only "
                    "during deployments, to copy the web client's static files."
                ),
            ),
            *(
                Acknowledgment(
                    id=f"AwsSolutions-IAM5[{finding}]",
                    reason=(
                        "CDK's BucketDeployment policy: read the asset from the bootstrap bucket, replace "
                        "static/* in the web client's bucket (object-level wildcards on these two buckets "
                        "only) and invalidate the distribution (CloudFront invalidations have no ARNs)."
                    ),
                )
                for finding in wildcards
            ),
            Acknowledgment(
                id="AwsSolutions-L1",
                reason=(
                    "CDK pins the runtime of its BucketDeployment function to the one its bundled AWS CLI "
                    "is built for; it is updated with aws-cdk-lib."
                ),
            ),
        )
