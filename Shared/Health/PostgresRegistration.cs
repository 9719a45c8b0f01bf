using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Ujumbe.ServiceDefaults;

namespace Ujumbe.Shared.Health;

public static class PostgresRegistration
{
    /// <summary>
    /// The one <see cref="NpgsqlDataSource"/> (one pool) of a service, from the Aspire integration reading
    /// <c>ConnectionStrings__postgres</c>, with its tracing and metrics. Everything that talks to PostgreSQL
    /// uses it: the raw-Npgsql hot paths, and in the Api the DbContext. A missing or malformed connection
    /// string fails the start with a message naming the setting; an unreachable server does not (the
    /// service starts and <c>/health</c> reports <c>postgres</c> Unhealthy until it answers).
    /// </summary>
    public static IHostApplicationBuilder AddPostgres(this IHostApplicationBuilder builder, string applicationName, int maxAutoPrepare)
    {
        var connectionString = builder.Configuration.GetRequiredConnectionString("postgres");
        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException error)
        {
            throw new InvalidOperationException($"ConnectionStrings__postgres is not a valid Npgsql connection string: {error.Message}", error);
        }

        builder.AddNpgsqlDataSource("postgres",
            // Our own check (below) runs the same probe on this data source, under the name and with the
            // timeout and wording operators and tests know.
            settings => settings.DisableHealthChecks = true,
            dataSource =>
            {
                dataSource.Name = applicationName;
                // The hot paths run the same few statements all day: let Npgsql prepare them once per connection.
                if (dataSource.ConnectionStringBuilder.MaxAutoPrepare == 0)
                {
                    dataSource.ConnectionStringBuilder.MaxAutoPrepare = maxAutoPrepare;
                }
                // Visible in pg_stat_activity; and no session reset on every return to the pool (we never change session state).
                dataSource.ConnectionStringBuilder.ApplicationName ??= applicationName;
                dataSource.ConnectionStringBuilder.NoResetOnClose = true;
            });
        builder.Services.AddHealthChecks().AddCheck<PostgresHealthCheck>("postgres");
        return builder;
    }
}
