extern alias ApiApp;
extern alias GatewayApp;
extern alias WorkerApp;

using System.Security.Cryptography;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>Issue 10, bad input: a missing or malformed connection string stops the start with a message naming the setting.</summary>
public sealed class StartupSettingsTests
{
    private static readonly string Key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static Exception StartFailure<TEntryPoint>(Dictionary<string, string?> settings) where TEntryPoint : class
    {
        var host = new ServiceHost<TEntryPoint>(settings);
        try
        {
            return Assert.ThrowsAny<Exception>(() => host.Start());
        }
        finally
        {
            host.Dispose();
        }
    }

    private static string Messages(Exception error) => error is AggregateException aggregate
        ? string.Join(" | ", aggregate.Flatten().InnerExceptions.Select(inner => inner.Message))
        : error.Message + " | " + error.InnerException?.Message;

    private static Dictionary<string, string?> Gateway(string? redis) => new()
    {
        ["services:api:http:0"] = "http://127.0.0.1:9",
        ["ConnectionStrings:redis"] = redis,
        ["GatewaySigning:Key"] = Key,
        ["PortalTokens:SigningKey"] = Key,
    };

    private static Dictionary<string, string?> Worker(string? postgres) => new()
    {
        ["ConnectionStrings:postgres"] = postgres,
        ["ConnectionStrings:rabbitmq"] = "amqp://nobody:nothing@127.0.0.1:9/",
        ["Webhooks:SecretKey"] = Key,
    };

    [Theory]
    [InlineData(null)]
    [InlineData("password=only")]
    [InlineData("127.0.0.1:6379,nosuchoption=1")]
    public void The_gateway_refuses_to_start_without_a_usable_redis_connection_string(string? redis) =>
        Assert.Contains("ConnectionStrings__redis", Messages(StartFailure<GatewayApp::Program>(Gateway(redis))), StringComparison.Ordinal);

    [Fact]
    public void The_gateway_refuses_to_start_without_the_api_address()
    {
        var settings = Gateway(TestStack.Settings.Redis);
        settings.Remove("services:api:http:0");
        Assert.Contains("services__api__http__0", Messages(StartFailure<GatewayApp::Program>(settings)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Host=127.0.0.1;Nonsense=1")]
    [InlineData("this is not a connection string")]
    public void The_worker_refuses_to_start_without_a_usable_postgres_connection_string(string? postgres) =>
        Assert.Contains("ConnectionStrings__postgres", Messages(StartFailure<WorkerApp::Program>(Worker(postgres))), StringComparison.Ordinal);

    [Theory]
    [InlineData(null)]
    [InlineData("not a uri")]
    [InlineData("http://127.0.0.1:5672/")]
    [InlineData("amqp:///vhost")]
    public void The_worker_refuses_to_start_without_a_usable_rabbitmq_connection_string(string? rabbitmq)
    {
        var settings = Worker(TestStack.Settings.Postgres);
        settings["ConnectionStrings:rabbitmq"] = rabbitmq;
        var message = Messages(StartFailure<WorkerApp::Program>(settings));
        Assert.Contains("ConnectionStrings__rabbitmq", message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_api_refuses_to_start_with_a_malformed_rabbitmq_connection_string() =>
        Assert.Contains("ConnectionStrings__rabbitmq", Messages(StartFailure<ApiApp::Program>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:postgres"] = TestStack.Settings.Postgres,
            ["ConnectionStrings:rabbitmq"] = "amqp//guest:guest@127.0.0.1",
            ["ConnectionStrings:redis"] = TestStack.Settings.Redis,
            ["GatewaySigning:Key"] = Key,
            ["PortalTokens:SigningKey"] = Key,
            ["Webhooks:SecretKey"] = Key,
        })), StringComparison.Ordinal);

    [Fact]
    public async Task The_api_does_not_half_start_when_postgres_does_not_answer_and_says_which_setting_names_it()
    {
        await using var broker = await TestStack.CreateVirtualHostAsync();
        var error = StartFailure<ApiApp::Program>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:postgres"] = "Host=127.0.0.1;Port=9;Username=nobody;Password=nothing;Timeout=2",
            ["ConnectionStrings:rabbitmq"] = broker.ConnectionString,
            ["ConnectionStrings:redis"] = TestStack.Settings.Redis,
            ["GatewaySigning:Key"] = Key,
            ["PortalTokens:SigningKey"] = Key,
            ["Webhooks:SecretKey"] = Key,
        });
        Assert.Contains("ConnectionStrings__postgres", Messages(error), StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:9", Messages(error), StringComparison.Ordinal);
    }
}
