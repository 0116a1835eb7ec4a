# Load balancers: the public one serves the web front end; the internal one
# routes /api to the API and /spam to the spam checker (the web calls the
# API through it, and the API the spam checker). Tasks run in bridge mode
# with dynamic host ports, so each load balancer reaches the hosts on the
# ephemeral port range, and nothing else does.

locals {
  ephemeral_from = 32768
  ephemeral_to   = 65535
  https          = var.certificate_arn != ""

  lb_services = {
    api       = { lb = "internal", paths = ["/api", "/api/*"], priority = 100 }
    spamcheck = { lb = "internal", paths = ["/spam", "/spam/*"], priority = 200 }
    web       = { lb = "public", paths = [], priority = 0 }
  }
}

# ---- access logs (S3 server-side encryption with S3 keys: the only kind
# load balancer log delivery supports)

data "aws_elb_service_account" "this" {}

module "lb_logs" {
  source = "../private-bucket"

  name_prefix                = "${var.name}-lb-logs-"
  expiration_days            = var.log_retention_days
  noncurrent_days            = 7
  force_destroy              = true
  elb_log_delivery_principal = data.aws_elb_service_account.this.arn
  tags                       = var.tags
}

# ---- security groups

resource "aws_security_group" "public_lb" {
  name        = "${var.name}-public-lb"
  description = "Public load balancer: HTTP(S) in, the web tasks' host ports out"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-public-lb" })
}

resource "aws_security_group" "internal_lb" {
  name        = "${var.name}-internal-lb"
  description = "Internal load balancer: HTTP from the hosts and the runner, the tasks' host ports out"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-internal-lb" })
}

resource "aws_vpc_security_group_ingress_rule" "public_lb" {
  # The sample's front door: public_ingress_cidrs narrows it.
  for_each = { for pair in setproduct(var.public_ingress_cidrs, local.https ? [80, 443] : [80]) : "${pair[0]}:${pair[1]}" => pair }

  security_group_id = aws_security_group.public_lb.id
  description       = "HTTP(S) from the internet"
  ip_protocol       = "tcp"
  from_port         = each.value[1]
  to_port           = each.value[1]
  cidr_ipv4         = each.value[0]
}

resource "aws_vpc_security_group_ingress_rule" "internal_lb" {
  # checkov:skip=CKV_AWS_260:The source is a security group (the hosts' or the runner's), never a CIDR; checkov cannot resolve the for_each values.
  for_each = toset(concat([var.host_security_group_id], var.internal_client_security_group_ids))

  security_group_id            = aws_security_group.internal_lb.id
  description                  = "HTTP from the application hosts or the experiment runner"
  ip_protocol                  = "tcp"
  from_port                    = 80
  to_port                      = 80
  referenced_security_group_id = each.value
}

resource "aws_vpc_security_group_egress_rule" "lb_to_hosts" {
  for_each = { public = aws_security_group.public_lb.id, internal = aws_security_group.internal_lb.id }

  security_group_id            = each.value
  description                  = "to the tasks' dynamic host ports"
  ip_protocol                  = "tcp"
  from_port                    = local.ephemeral_from
  to_port                      = local.ephemeral_to
  referenced_security_group_id = var.host_security_group_id
}

resource "aws_vpc_security_group_ingress_rule" "hosts_from_lb" {
  for_each = { public = aws_security_group.public_lb.id, internal = aws_security_group.internal_lb.id }

  security_group_id            = var.host_security_group_id
  description                  = "tasks' dynamic host ports from the ${each.key} load balancer"
  ip_protocol                  = "tcp"
  from_port                    = local.ephemeral_from
  to_port                      = local.ephemeral_to
  referenced_security_group_id = each.value
}

# ---- load balancers

resource "aws_lb" "public" {
  # checkov:skip=CKV_AWS_150:The sample's load balancer is torn down with the rest; deletion protection would block that.
  # checkov:skip=CKV2_AWS_28:A WAF web ACL is out of scope for the sample (it costs more than the load balancer).
  name                       = "${var.name}-public"
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = var.public_subnet_ids
  security_groups            = [aws_security_group.public_lb.id]
  drop_invalid_header_fields = true

  access_logs {
    bucket  = module.lb_logs.id
    prefix  = "public"
    enabled = true
  }

  tags = var.tags

  depends_on = [module.lb_logs]
}

resource "aws_lb" "internal" {
  # checkov:skip=CKV2_AWS_20:The internal load balancer has no certificate (no private CA in the sample); its traffic stays inside the VPC.
  # checkov:skip=CKV_AWS_150:The sample's load balancer is torn down with the rest; deletion protection would block that.
  name                       = "${var.name}-internal"
  load_balancer_type         = "application"
  internal                   = true
  subnets                    = var.private_subnet_ids
  security_groups            = [aws_security_group.internal_lb.id]
  drop_invalid_header_fields = true

  access_logs {
    bucket  = module.lb_logs.id
    prefix  = "internal"
    enabled = true
  }

  tags = var.tags

  depends_on = [module.lb_logs]
}

resource "aws_lb_target_group" "this" {
  # checkov:skip=CKV_AWS_378:The sample's containers serve plain HTTP; the hop from the load balancer to the host stays inside the VPC.
  for_each = var.services

  name                 = "${var.name}-${each.key}"
  port                 = each.value.container_port
  protocol             = "HTTP"
  target_type          = "instance"
  vpc_id               = var.vpc_id
  deregistration_delay = 30

  health_check {
    path                = each.value.health_path
    matcher             = each.value.health_matcher
    interval            = 15
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = var.tags
}

resource "aws_lb_listener" "public_http" {
  # checkov:skip=CKV_AWS_2:Plain HTTP only when no certificate_arn is given (the sample has no domain); with one, port 80 redirects to HTTPS.
  load_balancer_arn = aws_lb.public.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = local.https ? "redirect" : "forward"
    target_group_arn = local.https ? null : aws_lb_target_group.this["web"].arn

    dynamic "redirect" {
      for_each = local.https ? [1] : []

      content {
        port        = "443"
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }
  }

  tags = var.tags
}

resource "aws_lb_listener" "public_https" {
  count = local.https ? 1 : 0

  load_balancer_arn = aws_lb.public.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this["web"].arn
  }

  tags = var.tags
}

resource "aws_lb_listener" "internal_http" {
  # checkov:skip=CKV_AWS_2:The internal load balancer has no certificate (no private CA in the sample); its traffic stays inside the VPC.
  # checkov:skip=CKV_AWS_103:The internal load balancer has no certificate (no private CA in the sample); its traffic stays inside the VPC.
  # checkov:skip=CKV2_AWS_20:The internal load balancer has no certificate (no private CA in the sample); its traffic stays inside the VPC.
  load_balancer_arn = aws_lb.internal.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "fixed-response"

    fixed_response {
      content_type = "text/plain"
      message_body = "not found"
      status_code  = "404"
    }
  }

  tags = var.tags
}

resource "aws_lb_listener_rule" "internal" {
  for_each = { for k, v in local.lb_services : k => v if v.lb == "internal" }

  listener_arn = aws_lb_listener.internal_http.arn
  priority     = each.value.priority

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this[each.key].arn
  }

  condition {
    path_pattern {
      values = each.value.paths
    }
  }

  tags = var.tags
}
