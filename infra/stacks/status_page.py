"""The status page stack: deployable to another region than the pipeline, so the page stays up when
the product's region does not. One stack per page region: the primary holds a bucket and, when
configured, the CloudFront distribution whose origin group fails over to the replica's bucket."""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Aws, CfnOutput, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.checkov import skip
from infra.config import ClarionConfig

FAILOVER_STATUS = [500, 502, 503, 504]
# The viewer TLS policy, stated for both cases. With a custom domain the distribution requires TLS 1.2
# or later with the ciphers of CloudFront's TLSv1.2_2021 policy. With CloudFront's default certificate
# (*.cloudfront.net) CloudFront fixes the policy at TLSv1 and no setting raises it: modern clients
# still negotiate TLS 1.3 or 1.2, but a client may fall back to 1.0/1.1.
CUSTOM_DOMAIN_POLICY = cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021
DEFAULT_CERTIFICATE_POLICY = (
    "Without a custom domain the distribution uses CloudFront's default certificate, whose security "
    "policy CloudFront fixes at TLSv1 (it cannot be raised); set page_domain and page_certificate_arn for "
    "TLSv1.2_2021."
)
WAF_REASON = (
    "Static, cacheable, read-only files with no forms or APIs behind them; WAF adds cost and a "
    "dependency the page must survive without."
)
# What other sites read from the page: the JSON API (widgets, the banner), the banner script and the
# badges. CloudFront answers these with CORS headers for any origin (no credentials).
CORS_PATHS = ["api/*", "embed/*", "badge.svg", "badges/*", "*/badge.svg", "*/badges/*"]


class StatusPageStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: ClarionConfig, primary: bool, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        logs_bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            removal_policy=RemovalPolicy.RETAIN,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,  # CloudFront logs need ACLs
        )
        skip(
            logs_bucket,
            "CKV_AWS_18",
            "This is the access-log bucket of the status page; logging it into itself would loop.",
        )
        skip(
            logs_bucket,
            "CKV_AWS_21",
            "Access logs are written once and never changed; versions would only keep deleted logs.",
        )
        self.bucket = s3.Bucket(
            self,
            "Page",
            bucket_name=config.page_bucket_name(self.region, Aws.ACCOUNT_ID),
            versioned=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            removal_policy=RemovalPolicy.RETAIN,
            server_access_logs_bucket=logs_bucket,
            server_access_logs_prefix="page/",
            # Every publish leaves the files it replaced as noncurrent versions (kept to roll a page
            # back); they expire after page_noncurrent_days instead of accumulating forever.
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireReplacedPageVersions",
                    noncurrent_version_expiration=Duration.days(config.page_noncurrent_days),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
        )
        CfnOutput(self, "PageBucket", value=self.bucket.bucket_name)
        acks = {
            "AwsSolutions-S1": "This is the access-log bucket of the status page; logging it into itself would loop.",
        }
        self.distribution: cloudfront.Distribution | None = None
        if not primary:
            # The primary region's distribution reads this replica through origin access control.
            self.bucket.add_to_resource_policy(
                iam.PolicyStatement(
                    actions=["s3:GetObject"],
                    resources=[self.bucket.arn_for_objects("*")],
                    principals=[iam.ServicePrincipal("cloudfront.amazonaws.com")],
                    conditions={
                        "StringLike": {
                            "AWS:SourceArn": f"arn:{Aws.PARTITION}:cloudfront::{Aws.ACCOUNT_ID}:distribution/*"
                        }
                    },
                )
            )
        elif config.cloudfront:
            self.distribution = self._distribution(config, logs_bucket)
            acks.update(
                {
                    "AwsSolutions-CFR1": "A status page is for every customer everywhere; no geo restriction.",
                    "AwsSolutions-CFR2": WAF_REASON,
                }
            )
            if not config.page_domain:
                acks["AwsSolutions-CFR4"] = DEFAULT_CERTIFICATE_POLICY
        v = Validations.of(self)
        for rule, reason in acks.items():
            v.acknowledge(Acknowledgment(id=rule, reason=reason))

    def _distribution(self, config: ClarionConfig, logs_bucket: s3.IBucket) -> cloudfront.Distribution:
        origin: cloudfront.IOrigin = origins.S3BucketOrigin.with_origin_access_control(self.bucket)
        if config.page_replica_region:
            replica = s3.Bucket.from_bucket_attributes(
                self,
                "Replica",
                bucket_name=config.page_bucket_name(config.page_replica_region, Aws.ACCOUNT_ID),
                region=config.page_replica_region,
            )
            origin = origins.OriginGroup(
                primary_origin=origin,
                fallback_origin=origins.S3BucketOrigin.with_origin_access_control(replica),
                fallback_status_codes=FAILOVER_STATUS,
            )
        domain = {}
        if config.page_domain and config.page_certificate_arn:
            domain = {
                "domain_names": [config.page_domain],
                "certificate": acm.Certificate.from_certificate_arn(self, "Certificate", config.page_certificate_arn),
                "minimum_protocol_version": CUSTOM_DOMAIN_POLICY,
            }

        def behavior(
            headers: cloudfront.IResponseHeadersPolicy, methods: cloudfront.AllowedMethods
        ) -> cloudfront.BehaviorOptions:
            return cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=methods,
                response_headers_policy=headers,
                compress=True,
            )

        cors = cloudfront.ResponseHeadersPolicy.CORS_ALLOW_ALL_ORIGINS_WITH_PREFLIGHT_AND_SECURITY_HEADERS
        distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"{config.prefix} status page",
            default_root_object="index.html",
            default_behavior=behavior(
                cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS, cloudfront.AllowedMethods.ALLOW_GET_HEAD
            ),
            additional_behaviors={
                path: behavior(cors, cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS) for path in CORS_PATHS
            },
            price_class=cloudfront.PriceClass.PRICE_CLASS_ALL,
            enable_logging=True,
            log_bucket=logs_bucket,
            log_file_prefix="cloudfront/",
            **domain,  # type: ignore[arg-type]
        )
        skip(distribution, "CKV_AWS_68", WAF_REASON)
        if not config.page_domain:
            skip(distribution, "CKV_AWS_174", DEFAULT_CERTIFICATE_POLICY)
        CfnOutput(self, "PageUrl", value=f"https://{config.page_domain or distribution.distribution_domain_name}/")
        return distribution
