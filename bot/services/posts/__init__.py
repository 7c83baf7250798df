"""Standing posts (楼道长, 党员先锋岗, 责任区): terms, monthly check-ins, vacancies."""
