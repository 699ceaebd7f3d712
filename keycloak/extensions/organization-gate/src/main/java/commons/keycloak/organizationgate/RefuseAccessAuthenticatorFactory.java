package commons.keycloak.organizationgate;

import java.util.List;
import org.keycloak.Config;
import org.keycloak.authentication.Authenticator;
import org.keycloak.authentication.AuthenticatorFactory;
import org.keycloak.models.AuthenticationExecutionModel.Requirement;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.provider.ProviderConfigurationBuilder;

/** Registers {@link RefuseAccessAuthenticator} as "Refuse access (not a failed login)". */
public final class RefuseAccessAuthenticatorFactory implements AuthenticatorFactory {

    public static final String PROVIDER_ID = "commons-refuse-access";

    /** Same option name as Keycloak's "Deny access", so a flow can switch between the two without new config. */
    static final String MESSAGE = "denyErrorMessage";

    private static final Requirement[] REQUIREMENT_CHOICES = { Requirement.REQUIRED, Requirement.DISABLED };

    private static final List<ProviderConfigProperty> CONFIG_PROPERTIES = ProviderConfigurationBuilder.create()
            .property()
            .name(MESSAGE)
            .label("Error message")
            .helpText("Shown on the error page: a message key of the theme or the realm's localization texts, or plain text.")
            .type(ProviderConfigProperty.STRING_TYPE)
            .add()
            .build();

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getDisplayType() {
        return "Refuse access (not a failed login)";
    }

    @Override
    public String getHelpText() {
        return "Ends the sign-in on an error page like 'Deny access', without counting a failed login "
                + "for brute-force protection.";
    }

    @Override
    public String getReferenceCategory() {
        return null;
    }

    @Override
    public boolean isConfigurable() {
        return true;
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return CONFIG_PROPERTIES;
    }

    @Override
    public Requirement[] getRequirementChoices() {
        return REQUIREMENT_CHOICES;
    }

    @Override
    public boolean isUserSetupAllowed() {
        return false;
    }

    @Override
    public Authenticator create(KeycloakSession session) {
        return RefuseAccessAuthenticator.SINGLETON;
    }

    @Override
    public void init(Config.Scope config) {
        // Nothing to configure at the server level.
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
        // No other provider to look up at start.
    }

    @Override
    public void close() {
        // Holds no resources.
    }
}
