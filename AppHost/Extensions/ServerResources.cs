namespace Ujumbe.AppHost.Extensions;

/// <summary>The three servers every service connects to, whichever way they run.</summary>
public sealed record Servers(
    IResourceBuilder<IResourceWithConnectionString> Postgres,
    IResourceBuilder<IResourceWithConnectionString> Redis,
    IResourceBuilder<IResourceWithConnectionString> RabbitMq);

/// <summary>A server from the Debian packages on its own 127.0.0.1 port ("tcp"), with a password.</summary>
public abstract class ServerResource(string name, string command, string workingDirectory, ParameterResource password)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public ParameterResource Password { get; } = password;
    public EndpointReference Endpoint => new(this, "tcp");
    public abstract ReferenceExpression ConnectionStringExpression { get; }
}

/// <summary>PostgreSQL; its connection string names the <c>ujumbe</c> database.</summary>
public sealed class PostgresServerResource(string name, string command, string workingDirectory, ParameterResource password)
    : ServerResource(name, command, workingDirectory, password)
{
    public override ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host=127.0.0.1;Port={Endpoint.Property(EndpointProperty.Port)};Username=postgres;Password={Password};Database=ujumbe");
}

/// <summary>Redis, password protected, nothing persisted.</summary>
public sealed class RedisServerResource(string name, string command, string workingDirectory, ParameterResource password)
    : ServerResource(name, command, workingDirectory, password)
{
    public override ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"127.0.0.1:{Endpoint.Property(EndpointProperty.Port)},password={Password}");
}

/// <summary>RabbitMQ with the project's own user.</summary>
public sealed class RabbitMqServerResource(string name, string command, string workingDirectory, ParameterResource password)
    : ServerResource(name, command, workingDirectory, password)
{
    public const string UserName = "ujumbe";

    public override ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"amqp://{UserName}:{Password}@127.0.0.1:{Endpoint.Property(EndpointProperty.Port)}/");
}
