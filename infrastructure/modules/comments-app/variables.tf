variable "name" {
  description = "Prefix of resource names, e.g. live-chaos-comment (containers are <name>-api, <name>-web, <name>-spamcheck)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9-]{1,22}$", var.name))
    error_message = "The name must be 1-22 lower-case letters, digits or '-' (load balancer and target group names add up to 10 characters and may have 32)."
  }
}

variable "environment" {
  description = "Environment name used in alarm names, e.g. live."
  type        = string
}

variable "application" {
  description = "Application name used in alarm and service names."
  type        = string
  default     = "comments"
}

variable "cluster_name" {
  description = "ECS cluster the services run on."
  type        = string
}

variable "capacity_provider_name" {
  description = "EC2 capacity provider of the cluster: every task runs on a host with a chaos agent."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the application."
  type        = string
}

variable "public_subnet_ids" {
  description = "Subnets of the public load balancer."
  type        = list(string)
}

variable "private_subnet_ids" {
  description = "Subnets of the internal load balancer."
  type        = list(string)
}

variable "host_security_group_id" {
  description = "Security group of the ECS hosts; the load balancers get a rule to reach the tasks' host ports on it."
  type        = string
}

variable "internal_client_security_group_ids" {
  description = "Security groups, besides the hosts', allowed to call the internal load balancer (the experiment runner probes the API through it)."
  type        = list(string)
  default     = []
}

variable "public_ingress_cidrs" {
  description = "Who may reach the public load balancer."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "certificate_arn" {
  description = "ACM certificate for HTTPS on the public load balancer. Empty: plain HTTP on port 80, as the original sample."
  type        = string
  default     = ""
}

variable "db_address" {
  description = "Host name of the MySQL database."
  type        = string
}

variable "db_port" {
  description = "Port of the database."
  type        = number
  default     = 3306
}

variable "db_name" {
  description = "Schema of the application."
  type        = string
}

variable "db_username" {
  description = "Database user of the API."
  type        = string
}

variable "db_secret_arn" {
  description = "Secrets Manager secret with the database password (JSON key password); the API gets it through ECS secrets."
  type        = string
}

variable "db_kms_key_arn" {
  description = "KMS key of that secret."
  type        = string
}

variable "image_registry" {
  description = "Registry path for images given without one. Null: the ECR pull-through cache of public.ecr.aws/devlearnops in this account (ecr-public/devlearnops)."
  type        = string
  default     = null
}

variable "create_pull_through_cache" {
  description = "Create the ECR pull-through cache rule ecr-public -> public.ecr.aws (one per account and prefix: turn off if it exists)."
  type        = bool
  default     = true
}

variable "services" {
  description = "The three services: image (name:tag under image_registry, or a full reference), container port, health check path and matcher, CPU units, memory MiB, task counts, extra environment."
  type = map(object({
    image          = string
    container_port = number
    health_path    = string
    health_matcher = optional(string, "200")
    cpu            = optional(number, 256)
    memory         = optional(number, 512)
    min_count      = optional(number, 2)
    max_count      = optional(number, 4)
    environment    = optional(map(string), {})
  }))
  default = {
    api       = { image = "comments-api:v1", container_port = 8080, health_path = "/api/health", cpu = 512, memory = 1024 }
    web       = { image = "comments-web:v1", container_port = 3000, health_path = "/", health_matcher = "200,301,302" }
    spamcheck = { image = "comments-spamcheck:v1", container_port = 8000, health_path = "/spam/health" }
  }

  validation {
    condition     = toset(keys(var.services)) == toset(["api", "spamcheck", "web"])
    error_message = "The services map must have exactly the keys api, spamcheck and web."
  }
}

variable "api_requests_per_target" {
  description = "Target of the API's request-count scaling policy (requests per task per minute)."
  type        = number
  default     = 6000
}

variable "cpu_target_percent" {
  description = "Target average CPU of every service's scaling policy."
  type        = number
  default     = 70
}

variable "memory_target_percent" {
  description = "Target average memory of every service's scaling policy."
  type        = number
  default     = 70
}

variable "internal_latency_threshold" {
  description = "Seconds of average target response time that fire the internal load balancer's latency alarm."
  type        = number
  default     = 1.0
}

variable "public_latency_threshold" {
  description = "Seconds of average target response time that fire the public load balancer's latency alarm."
  type        = number
  default     = 1.2
}

variable "error_5xx_threshold" {
  description = "Target 5XX responses per minute that fire the internal load balancer's error alarm."
  type        = number
  default     = 100
}

variable "log_retention_days" {
  description = "Days to keep container logs and load balancer access logs."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
