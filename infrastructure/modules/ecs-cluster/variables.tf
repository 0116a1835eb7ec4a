variable "name" {
  description = "Prefix of resource names, e.g. live-chaos-comment."
  type        = string
}

variable "cluster_name" {
  description = "Name of the ECS cluster (the library's cluster_name)."
  type        = string
}

variable "asg_name" {
  description = "Exact name of the hosts' auto scaling group (the library's autoscaling_group_name)."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the hosts."
  type        = string
}

variable "vpc_cidr_block" {
  description = "CIDR of the VPC: where the hosts' tasks may connect to (the database, the internal load balancer, the endpoints)."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets the hosts run in, one per zone."
  type        = list(string)
}

variable "s3_prefix_list_id" {
  description = "Prefix list of S3 (the gateway endpoint): ECR layers, the agent package, Amazon Linux repositories."
  type        = string
}

variable "vpc_egress_ports" {
  description = "TCP ports the hosts and their tasks may open inside the VPC: 80 (internal load balancer), 443 (interface endpoints), 3306 (the database)."
  type        = list(number)
  default     = [80, 443, 3306]
}

variable "allow_internet_egress" {
  description = "Let the hosts open HTTP and HTTPS connections to the internet (needs a NAT gateway). Off: AWS only through the VPC endpoints."
  type        = bool
  default     = false
}

variable "instance_type" {
  description = "EC2 instance type of the hosts (x86_64 unless the package and AMI are arm64)."
  type        = string
  default     = "t3.medium"
}

variable "min_size" {
  description = "Fewest hosts (one per zone at least, so that an AZ failure leaves capacity)."
  type        = number
  default     = 2
}

variable "max_size" {
  description = "Most hosts the capacity provider may scale out to."
  type        = number
  default     = 5
}

variable "root_volume_size" {
  description = "Size of each host's encrypted root volume, GiB (the ECS AMI needs 30)."
  type        = number
  default     = 30
}

variable "ami_parameter" {
  description = "Public SSM parameter naming the AMI; resolved by EC2 at each launch, so new hosts get the current ECS-optimized AMI."
  type        = string
  default     = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
}

variable "agent_package_url" {
  description = "s3://BUCKET/KEY (or https://...) of the chaos-agent RPM for the hosts' architecture."
  type        = string

  validation {
    condition     = var.agent_package_url != ""
    error_message = "The agent_package_url is empty: upload the chaos-agent RPM and set it (CHAOS_AGENT_PACKAGE_URL for the live environment)."
  }
}

variable "agent_package_sha256" {
  description = "SHA-256 of that package."
  type        = string
}

variable "agent_key_parameter_name" {
  description = "SSM SecureString holding the agent key file."
  type        = string
}

variable "agent_key_reader_policy_json" {
  description = "IAM policy document that allows reading that parameter (the agent-key module's reader_policy_json)."
  type        = string
}

variable "agent_port" {
  description = "TCP port of the agents."
  type        = number
  default     = 8421
}

variable "agent_client_cidrs" {
  description = "CIDRs the experiment runner's tasks come from; with operator_cidrs, the only sources the agents' own IP filter admits."
  type        = list(string)
  default     = []
}

variable "operator_cidrs" {
  description = "Extra CIDRs (operators' networks, a VPN) allowed to reach the agent port. Empty by default: only the runner's security group can."
  type        = list(string)
  default     = []
}

variable "ecs_config_extra" {
  description = "More /etc/ecs/ecs.config lines (KEY=value)."
  type        = list(string)
  default     = []
}

variable "user_data_template_path" {
  description = "Path of packaging/ecs/user-data.sh. Null: found relative to this module in the repository; Terragrunt passes the repository's copy."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource; propagated to the hosts and their volumes."
  type        = map(string)
  default     = {}
}
