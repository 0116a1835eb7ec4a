# tofu test with a mocked AWS provider: the module's own logic (zones,
# subnets, endpoints, the NAT switch), no AWS. The provider's schema comes
# from the schema stub (tests/infra/stubprovider); make check-infra runs it.

mock_provider "aws" {
  mock_data "aws_availability_zones" {
    defaults = {
      names = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"]
    }
  }
  mock_data "aws_region" {
    defaults = {
      region = "us-east-1"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
}

variables {
  name = "live-chaos"
}

run "two_zones_a_private_and_a_public_subnet_each_no_nat" {
  command = plan

  assert {
    condition     = length(aws_subnet.private) == 2 && length(aws_subnet.public) == 2
    error_message = "Expected two private and two public subnets."
  }
  assert {
    condition     = [for s in aws_subnet.private : s.cidr_block] == ["10.0.0.0/24", "10.0.1.0/24"]
    error_message = "Private subnets are not the VPC's first /24s."
  }
  assert {
    condition     = [for s in aws_subnet.public : s.cidr_block] == ["10.0.4.0/24", "10.0.5.0/24"]
    error_message = "Public subnets are not the VPC's fifth and sixth /24s."
  }
  assert {
    condition     = output.availability_zones == tolist(["us-east-1a", "us-east-1b"])
    error_message = "The first two zones are not used."
  }
  assert {
    condition     = length(aws_nat_gateway.this) == 0 && length(aws_route.private_nat) == 0
    error_message = "A NAT gateway was created although enable_nat_gateway is off."
  }
  assert {
    condition     = toset(keys(aws_vpc_endpoint.interface)) == toset(["ecs", "ecs-agent", "ecs-telemetry", "ecr.api", "ecr.dkr", "logs", "ssm"])
    error_message = "The interface endpoints are not the ones the hosts need."
  }
  assert {
    condition     = aws_vpc_endpoint.interface["ssm"].service_name == "com.amazonaws.us-east-1.ssm"
    error_message = "Endpoint service names are not built from the region."
  }
  assert {
    condition     = alltrue([for s in aws_subnet.public : s.map_public_ip_on_launch == false])
    error_message = "Public subnets hand out public addresses by default."
  }
}

run "nat_gateway_on_request_routes_every_private_subnet" {
  command = plan

  variables {
    enable_nat_gateway = true
    az_count           = 3
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 1 && length(aws_route.private_nat) == 3
    error_message = "Expected one NAT gateway and a default route in each of the three private route tables."
  }
}

run "one_zone_is_refused" {
  command = plan

  variables {
    az_count = 1
  }
  expect_failures = [var.az_count]
}
