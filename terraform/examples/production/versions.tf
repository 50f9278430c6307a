terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }

  # Keep the state in S3, encrypted (it holds the attestation seed and the MLflow token when set):
  # backend "s3" {
  #   bucket       = "my-terraform-state"
  #   key          = "deltaone/production.tfstate"
  #   region       = "eu-west-1"
  #   encrypt      = true
  #   use_lockfile = true
  # }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = { environment = "production" }
  }
}
